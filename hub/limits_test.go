package hub_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/wire"
)

// parkProbe is the review's probe: a spoke first sends 64 MiB through its
// stream (so the hub's flow-control windows auto-tune), then opens as
// many more streams as the hub allows and writes into them; the hub never
// accepts those. parked is what the hub connection took in meanwhile.
type parkProbe struct {
	parked     int64
	extra      int  // streams opened beyond the spoke's own
	uniRefused bool // a unidirectional stream could not be opened
}

func runParkProbe(t testing.TB, cfg *quic.Config) parkProbe {
	t.Helper()
	tr, err := quic.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := *cfg
	c.ALPNs = []string{hub.ALPN}
	sep, err := quic.NewEndpoint(tr, &c)
	if err != nil {
		t.Fatal(err)
	}
	defer sep.Close()
	spokes := make(chan *hub.Spoke, 1)
	h := hub.New(hub.Options{
		Router:    hub.RouterFunc(func(*hub.Hub, *hub.Spoke, wire.Envelope, []byte) {}),
		OnConnect: func(s *hub.Spoke) { spokes <- s },
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.Serve(ctx, sep)
	defer h.Close()

	cep := newEndpoint(t)
	conn, err := cep.Dial(ctx, quic.UDPAddr(netip.MustParseAddrPort(sep.LocalAddr().String())), sep.ID(), hub.ALPN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(0, "")
	s0, err := conn.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	frame, err := wire.AppendFrame(nil, wire.Envelope{Type: "bulk", ID: "1", Payload: []byte(`"` + string(bytes.Repeat([]byte("x"), 1<<20)) + `"`)})
	if err != nil {
		t.Fatal(err)
	}
	for range 64 {
		if _, err := s0.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	hubConn := (<-spokes).Conn()
	received := func() int64 { return int64(hubConn.Stats().BytesReceived) }
	settled := func() int64 {
		last := int64(-1)
		for n := received(); n != last; n = received() {
			last = n
			time.Sleep(150 * time.Millisecond)
		}
		return last
	}
	before := settled()
	var p parkProbe
	junk := make([]byte, 8<<20)
	for range 100 {
		octx, ocancel := context.WithTimeout(ctx, 200*time.Millisecond)
		s, err := conn.OpenStream(octx)
		ocancel()
		if err != nil {
			break
		}
		p.extra++
		go s.Write(junk) // blocks on flow control; ends with the connection
	}
	octx, ocancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = conn.OpenUniStream(octx)
	ocancel()
	p.uniRefused = errors.Is(err, context.DeadlineExceeded)
	p.parked = settled() - before
	return p
}

// TestHubQUICLimits: with hub.QUICConfig a spoke connection can open one
// stream besides its own and no unidirectional one, and parks at most
// that stream's initial window in the hub.
func TestHubQUICLimits(t *testing.T) {
	p := runParkProbe(t, hub.QUICConfig(nil))
	t.Logf("%d extra streams, %d bytes parked, uni refused %v", p.extra, p.parked, p.uniRefused)
	if p.extra != hub.MaxSpokeStreams-1 || !p.uniRefused {
		t.Fatalf("%d extra streams (want %d), uni refused %v", p.extra, hub.MaxSpokeStreams-1, p.uniRefused)
	}
	if p.parked > hub.MaxSpokeReceiveWindow {
		t.Fatalf("%d bytes parked, cap %d", p.parked, hub.MaxSpokeReceiveWindow)
	}
	own := &quic.Config{MaxIncomingStreams: 5, MaxReceiveWindow: 1 << 20, MaxIncomingConnections: 7}
	c := hub.QUICConfig(own)
	if c.MaxIncomingStreams != 5 || c.MaxIncomingUniStreams != -1 || c.MaxReceiveWindow != 1<<20 || c.MaxIncomingConnections != 7 {
		t.Fatalf("QUICConfig overrode settings: %+v", c)
	}
}

// BenchmarkHubParkedBytes reports what one spoke connection can park in
// the hub, with quic's defaults and with hub.QUICConfig.
func BenchmarkHubParkedBytes(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  *quic.Config
	}{{"quic-defaults", &quic.Config{}}, {"hub-limits", hub.QUICConfig(nil)}} {
		b.Run(bc.name, func(b *testing.B) {
			var p parkProbe
			for b.Loop() {
				p = runParkProbe(b, bc.cfg)
			}
			b.ReportMetric(float64(p.parked)/(1<<20), "parked-MiB")
			b.ReportMetric(float64(p.extra), "extra-streams")
		})
	}
}
