//go:build linux

package inetlab

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/lookup"
)

// Where the lookup servers listen inside the DNS host (loopback only: the
// fronts are the public face).
var lookupPorts = map[string]struct{ http, dns uint16 }{
	ProdOrigin:    {8080, 5300},
	StagingOrigin: {8081, 5301},
}

// DNSHost is the lab's name and lookup infrastructure on 20.0.0.53.
type DNSHost struct {
	Host  *natlab.Host
	Front *DNSFront   // DNS on UDP and TCP port 53
	Pkarr *PkarrFront // HTTPS on 443, plain HTTP on 80
	// LookupServers are the "irohspoke lookup-server" processes by origin.
	LookupServers map[string]*natlab.Proc
	client        *http.Client // reaches the lookup servers directly
}

func startDNSHost(t testing.TB, l *Lab) *DNSHost {
	t.Helper()
	h := l.hosts["dns"]
	d := &DNSHost{Host: h, LookupServers: map[string]*natlab.Proc{}}
	dial := nsDialer(h)
	transport := &http.Transport{DialContext: dial, MaxIdleConnsPerHost: 4, IdleConnTimeout: 5 * time.Second}
	t.Cleanup(transport.CloseIdleConnections)
	d.client = &http.Client{Transport: transport, Timeout: 10 * time.Second}
	d.Front = newDNSFront(dial)
	d.Pkarr = newPkarrFront(transport)
	for _, origin := range []string{ProdOrigin, StagingOrigin} {
		ports := lookupPorts[origin]
		httpAddr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ports.http)
		dnsAddrPort := netip.AddrPortFrom(httpAddr.Addr(), ports.dns)
		p := l.Start(t, h, nil, "lookup-server", "--http", httpAddr.String(), "--dns", dnsAddrPort.String(),
			"--origin", origin+".", "--no-rate-limit")
		waitReady(t, p, nil)
		d.LookupServers[origin] = p
		d.Front.AddHost(origin, dnsAddr)
		d.Front.AddZone(origin, dnsAddrPort)
		if err := d.Pkarr.addOrigin(origin, "http://"+httpAddr.String()); err != nil {
			t.Fatal(err)
		}
	}
	d.serve(t, l.certs)
	return d
}

// serve opens the fronts' sockets in the DNS host and serves them until
// the test ends.
func (d *DNSHost) serve(t testing.TB, c *certs) {
	t.Helper()
	dnsAP := netip.AddrPortFrom(dnsAddr, 53).String()
	pc, err := nsListenPacket(d.Host, "udp", dnsAP)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	tl, err := nsListen(d.Host, "tcp", dnsAP)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close() })
	go d.Front.ServeUDP(pc)
	go d.Front.ServeTCP(tl)

	cert, err := c.tls(ProdOrigin, StagingOrigin)
	if err != nil {
		t.Fatal(err)
	}
	for _, port := range []uint16{443, 80} {
		l, err := nsListen(d.Host, "tcp", netip.AddrPortFrom(dnsAddr, port).String())
		if err != nil {
			t.Fatal(err)
		}
		// Real iroh's failed TLS handshakes (it trusts only its own roots)
		// are expected; the request log is what tests look at.
		srv := &http.Server{Handler: d.Pkarr, ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
		if port == 443 {
			l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}})
		}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
	}
}

// Published returns what the lookup server of origin stores for id, or
// lookup.ErrNotFound.
func (d *DNSHost) Published(ctx context.Context, origin string, id identity.EndpointID) (lookup.EndpointInfo, error) {
	r := &lookup.PkarrResolver{BaseURL: d.lookupURL(origin), Client: d.client}
	return r.Resolve(ctx, id)
}

// WaitPublished polls Published until id has a record naming a relay.
func (d *DNSHost) WaitPublished(ctx context.Context, origin string, id identity.EndpointID) (lookup.EndpointInfo, error) {
	for {
		info, err := d.Published(ctx, origin, id)
		if err == nil && len(info.Relays) > 0 {
			return info, nil
		}
		select {
		case <-ctx.Done():
			return info, fmt.Errorf("inetlab: %s never published a relay at %s (last: %v)", id.Short(), origin, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Publish stores info signed with key at origin's lookup server, as the
// endpoint's own publisher would.
func (d *DNSHost) Publish(ctx context.Context, origin string, key identity.SecretKey, info lookup.EndpointInfo) error {
	p := &lookup.PkarrPublisher{BaseURL: d.lookupURL(origin), Key: key, Client: d.client}
	return p.Publish(ctx, info)
}

func (d *DNSHost) lookupURL(origin string) string {
	return fmt.Sprintf("http://127.0.0.1:%d/pkarr", lookupPorts[origin].http)
}

// Counters are the DNS host's connection and datagram counters.
func (d *DNSHost) Counters(ctx context.Context) (Counters, error) {
	return readCounters(ctx, d.Host.Netns)
}

// nsDialer dials from inside h's namespace.
func nsDialer(h *natlab.Host) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		err := h.Do(func() error {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			conn = c
			return err
		})
		return conn, err
	}
}

// nsListen listens inside h's namespace.
func nsListen(h *natlab.Host, network, addr string) (net.Listener, error) {
	var l net.Listener
	err := h.Do(func() error {
		ln, err := net.Listen(network, addr)
		l = ln
		return err
	})
	return l, err
}

// nsListenPacket opens a packet socket inside h's namespace.
func nsListenPacket(h *natlab.Host, network, addr string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := h.Do(func() error {
		c, err := net.ListenPacket(network, addr)
		pc = c
		return err
	})
	return pc, err
}
