package portmap

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/nat/portmap/internal/fakegw"
	"github.com/alkdev/irohspoke/nat/portmap/natpmp"
	"github.com/alkdev/irohspoke/nat/portmap/pcp"
)

// Reply tamperers for the fake gateway.
func send(b ...[]byte) func(req, honest []byte) [][]byte {
	return func([]byte, []byte) [][]byte { return b }
}

// edit sends the honest answer after f changed it (nothing if it does not
// parse).
func edit[R interface{ Append([]byte) []byte }](parse func([]byte) (R, error), f func(*R)) func(req, honest []byte) [][]byte {
	return func(_, honest []byte) [][]byte {
		r, err := parse(honest)
		if err != nil {
			return nil
		}
		f(&r)
		return [][]byte{r.Append(nil)}
	}
}

func pcpEdit(f func(*pcp.Response)) func(req, honest []byte) [][]byte {
	return edit(pcp.ParseResponse, f)
}

func natpmpEdit(f func(*natpmp.Response)) func(req, honest []byte) [][]byte {
	return edit(natpmp.ParseResponse, f)
}

var garbage = []byte("\x02\x81garbage that is not a PCP or NAT-PMP answer..")

// hostileCase is a gateway's tampered reply and the refusal it must earn
// (nil: any error; errNone: success).
type hostileCase struct {
	reply func(req, honest []byte) [][]byte
	want  error
}

// runHostile maps a port through a fake gateway per case; gateway makes
// its config around the reply, client the client that asks it.
func runHostile(t *testing.T, cases map[string]hostileCase, gateway func(reply func(req, honest []byte) [][]byte) fakegw.Config, client func(port uint16) client) {
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			gw := fakegw.New(t, gateway(c.reply))
			l, err := client(gw.PMPPort).mapPort(context.Background(), request{route: testRoute(gw), lifetime: time.Hour})
			checkRefusal(t, l, err, c.want)
		})
	}
}

func TestHostilePCP(t *testing.T) {
	cases := map[string]hostileCase{
		"silence":          {send(), ErrTimeout},
		"garbage":          {send(garbage), ErrTimeout},
		"oversize":         {send(make([]byte, 1500)), ErrTimeout},
		"wrong nonce":      {pcpEdit(func(r *pcp.Response) { r.Map.Nonce[0] ^= 1 }), ErrTimeout},
		"wrong port":       {pcpEdit(func(r *pcp.Response) { r.Map.InternalPort++ }), ErrBadAnswer},
		"tcp":              {pcpEdit(func(r *pcp.Response) { r.Map.Protocol = pcp.ProtoTCP }), ErrBadAnswer},
		"private external": {pcpEdit(func(r *pcp.Response) { r.Map.ExternalAddr = netip.MustParseAddr("192.168.1.1") }), ErrBadExternal},
		"shared external":  {pcpEdit(func(r *pcp.Response) { r.Map.ExternalAddr = netip.MustParseAddr("100.64.0.1") }), ErrBadExternal},
		"unspecified":      {pcpEdit(func(r *pcp.Response) { r.Map.ExternalAddr = netip.IPv4Unspecified() }), ErrBadExternal},
		"ipv6 external":    {pcpEdit(func(r *pcp.Response) { r.Map.ExternalAddr = netip.MustParseAddr("2001:db8::1") }), ErrBadExternal},
		"port zero":        {pcpEdit(func(r *pcp.Response) { r.Map.ExternalPort = 0 }), ErrBadExternal},
		"lifetime 1 s":     {pcpEdit(func(r *pcp.Response) { r.Lifetime = 1 }), ErrLifetimeTooLow},
		"error result":     {pcpEdit(func(r *pcp.Response) { r.Result = pcp.NotAuthorized }), nil},
		// Junk first, then the real answer: the junk is skipped.
		"junk then honest": {func(req, honest []byte) [][]byte {
			bad := pcpEdit(func(r *pcp.Response) { r.Map.Nonce[3] ^= 9 })(req, honest)
			return [][]byte{garbage, make([]byte, 1200), bad[0], honest}
		}, errNone},
	}
	runHostile(t, cases,
		func(reply func(req, honest []byte) [][]byte) fakegw.Config {
			return fakegw.Config{PCP: true, PCPReply: reply}
		},
		func(port uint16) client { return pcpClient{port: port, wait: testWait} })
	t.Run("wrong source port", func(t *testing.T) {
		t.Parallel()
		gw := fakegw.New(t, fakegw.Config{PCP: true})
		_, err := pcpClient{port: wrongSource(t, gw), wait: testWait}.mapPort(context.Background(), request{route: testRoute(gw), lifetime: time.Hour})
		if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "answer from 127.0.0.1:") {
			t.Fatalf("answer from another port: %v", err)
		}
	})
}

// errNone marks a case that must succeed.
var errNone = errors.New("success expected")

func checkRefusal(t *testing.T, l lease, err, want error) {
	t.Helper()
	switch {
	case want == errNone:
		if err != nil || l.external != netip.MustParseAddrPort("5.5.5.1:40000") {
			t.Fatalf("honest answer after junk: %+v, %v", l, err)
		}
	case err == nil:
		t.Fatalf("accepted %+v", l)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("err %v, want %v", err, want)
	}
}

func TestHostileNATPMP(t *testing.T) {
	cases := map[string]hostileCase{
		"silence":          {send(), ErrTimeout},
		"garbage":          {send(garbage), ErrTimeout},
		"oversize":         {send(make([]byte, 1500)), ErrTimeout},
		"wrong port":       {natpmpEdit(func(r *natpmp.Response) { r.InternalPort++ }), ErrTimeout},
		"wrong opcode":     {natpmpEdit(func(r *natpmp.Response) { r.Opcode ^= 3 }), ErrTimeout},
		"port zero":        {natpmpEdit(func(r *natpmp.Response) { r.ExternalPort = 0 }), ErrBadExternal},
		"lifetime 1 s":     {natpmpEdit(func(r *natpmp.Response) { r.Lifetime = 1 }), ErrLifetimeTooLow},
		"error result":     {natpmpEdit(func(r *natpmp.Response) { r.Result = natpmp.OutOfResources }), nil},
		"private external": {natpmpEdit(func(r *natpmp.Response) { r.ExternalAddr = netip.MustParseAddr("10.0.0.1") }), ErrBadExternal},
		"loopback":         {natpmpEdit(func(r *natpmp.Response) { r.ExternalAddr = netip.MustParseAddr("127.0.0.1") }), ErrBadExternal},
		"junk then honest": {func(_, honest []byte) [][]byte { return [][]byte{garbage, honest[:9], honest} }, errNone},
	}
	runHostile(t, cases,
		func(reply func(req, honest []byte) [][]byte) fakegw.Config {
			return fakegw.Config{NATPMP: true, NATPMPReply: reply}
		},
		func(port uint16) client { return natpmpClient{port: port, wait: testWait} })
}

// TestHostileGatewayLeavesNoMapping runs whole Mappers against lying
// gateways: no event, a counted failure, and a clean Close.
func TestHostileGatewayLeavesNoMapping(t *testing.T) {
	cases := map[string]fakegw.Config{
		"pcp private":    {PCP: true, External: netip.MustParseAddr("172.16.0.9")},
		"natpmp garbage": {NATPMP: true, NATPMPReply: send(garbage)},
		"upnp private":   {UPnP: true, External: netip.MustParseAddr("192.168.0.1")},
		"upnp foreign control URL": {UPnP: true, Description: func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, fakegw.Description("urn:schemas-upnp-org:service:WANIPConnection:2", "http://127.0.0.2:1/ctl"))
		}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			gw := fakegw.New(t, cfg)
			m := start(testLocal, Options{}, gwEnv(gw))
			if _, err := m.Probe(context.Background()); err != nil {
				t.Fatal(err)
			}
			if e := m.Current(); e.External.IsValid() || e.Version != 0 {
				t.Fatalf("mapped through a lying gateway: %+v", e)
			}
			if s := m.Stats(); s.Failures == 0 {
				t.Fatalf("stats %+v", s)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
