//go:build linux

package inetlab_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop/inetlab"
	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/lookup"
)

func TestMain(m *testing.M) { os.Exit(inetlab.Main(m)) }

// labHTTP is an HTTP client whose connections start inside h's namespace
// and which resolves the lab's names with the lab's DNS front (queried
// from h, so the query crosses h's NAT like any other).
func labHTTP(t *testing.T, lab *inetlab.Lab, h *natlab.Host) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(lab.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ip, err := resolveA(ctx, lab, h, host)
			if err != nil {
				return nil, err
			}
			return lab.DialFrom(ctx, h, network, net.JoinHostPort(ip.String(), port))
		},
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// resolveA asks the lab's DNS front for name's A record from inside h.
func resolveA(ctx context.Context, lab *inetlab.Lab, h *natlab.Host, name string) (netip.Addr, error) {
	resp, err := lab.QueryDNS(ctx, h, name, inetlab.TypeA)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range resp.Answers {
		if a.Type == inetlab.TypeA && len(a.Data) == 4 {
			return netip.AddrFrom4([4]byte(a.Data)), nil
		}
	}
	return netip.Addr{}, &net.DNSError{Err: "no A record", Name: name, IsNotFound: true}
}

// TestLabServices: from a host behind a NAT, the lab's names resolve
// through the namespace's resolv.conf (getent, i.e. the C library), the
// lookup zone is forwarded to the lookup server, the pkarr API answers as
// https://dns.iroh.link/pkarr with the lab CA, the relays answer /ping
// under their n0 names, a delayed relay is that much slower, and the
// counters see all of it.
func TestLabServices(t *testing.T) {
	const delay = 40 * time.Millisecond
	lab := inetlab.New(t, inetlab.Spec{
		Relays: []inetlab.RelaySpec{{Name: inetlab.ProdRelays[0]}, {Name: inetlab.ProdRelays[2], Delay: delay}},
		Homes:  []inetlab.HomeSpec{{Name: "a", NAT: natlab.EndpointIndependent}},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := lab.Home("a").Host

	for _, name := range []string{inetlab.ProdRelays[0] + ".", inetlab.ProdRelays[2], inetlab.ProdOrigin, inetlab.StagingOrigin} {
		out, err := a.Exec(ctx, "getent", "ahostsv4", name)
		if err != nil {
			t.Fatalf("getent %s: %v", name, err)
		}
		want, err := resolveA(ctx, lab, a, name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(out), want.String()+" ") {
			t.Fatalf("getent %s: %q, want %s", name, out, want)
		}
	}
	if _, err := a.Exec(ctx, "getent", "ahostsv4", "example.com"); err == nil {
		t.Fatal("example.com resolves in the lab")
	}

	key, err := identity.GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	info := lookup.EndpointInfo{EndpointAddr: identity.EndpointAddr{Relays: []string{lab.Relays()[0].URL()}}}
	if err := lab.DNS.Publish(ctx, inetlab.ProdOrigin, key, info); err != nil {
		t.Fatal(err)
	}
	resp, err := lab.QueryDNS(ctx, a, lookup.DNSName(key.Public(), inetlab.ProdOrigin), lookup.TypeTXT)
	if err != nil || resp.Rcode() != lookup.RcodeSuccess || len(resp.Answers) != 1 {
		t.Fatalf("TXT through the front: %+v, %v", resp, err)
	}

	client := labHTTP(t, lab, a)
	res, err := client.Get(inetlab.PkarrURL(inetlab.ProdOrigin) + "/" + key.Public().ZBase32())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("pkarr GET: %s %q", res.Status, body)
	}
	if p, err := lookup.ParseRelayPayload(key.Public(), body); err != nil || p.Timestamp == 0 {
		t.Fatalf("pkarr GET body: %v", err)
	}
	if n := lab.DNS.Pkarr.Count(inetlab.ProdOrigin, http.MethodGet); n != 1 {
		t.Fatalf("pkarr front counted %d GETs", n)
	}

	var took [2]time.Duration
	for i, r := range lab.Relays() {
		start := time.Now()
		res, err := client.Get(r.URL() + "ping")
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		res.Body.Close()
		took[i] = time.Since(start)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s/ping: %s", r.Name, res.Status)
		}
		c, err := r.Counters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c["https"] != 1 || c["qad"] != 0 {
			t.Fatalf("%s counters: %v", r.Name, c)
		}
	}
	// TLS and the request are two round trips, each crossing the proxy
	// twice.
	if took[1] < 4*delay || took[0] > delay {
		t.Fatalf("/ping took %v plain and %v with %v each way", took[0], took[1], delay)
	}
	dc, err := lab.DNS.Counters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if dc["https"] != 1 || dc["dns-udp"] == 0 || lab.DNS.Front.Count("") == 0 {
		t.Fatalf("DNS host counters %v, front counted %d queries", dc, lab.DNS.Front.Count(""))
	}
	t.Logf("/ping: %v direct, %v through a %v proxy; DNS host: %v", took[0], took[1], delay, dc)
}
