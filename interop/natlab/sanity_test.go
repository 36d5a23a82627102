//go:build linux

package natlab_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
)

const (
	echoPort    = 9999
	privatePort = 40000
	probeWait   = 300 * time.Millisecond
)

// startEcho answers every datagram on host:port with the source address it
// saw, until the test ends.
func startEcho(t *testing.T, h *natlab.Host, port uint16) netip.AddrPort {
	t.Helper()
	c, err := h.ListenUDP(port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			_, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = c.WriteToUDPAddrPort([]byte(from.String()), from)
		}
	}()
	return h.AddrPort(port)
}

// observed sends a probe from c to echo and returns the source address the
// echo server saw.
func observed(t *testing.T, c *net.UDPConn, echo netip.AddrPort) netip.AddrPort {
	t.Helper()
	buf := make([]byte, 100)
	for try := 0; try < 3; try++ {
		if _, err := c.WriteToUDPAddrPort([]byte("probe"), echo); err != nil {
			t.Fatalf("sending to %v: %v", echo, err)
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			t.Fatalf("reading the echo of %v: %v", echo, err)
		}
		if from != echo {
			t.Fatalf("reply from %v, want %v", from, echo)
		}
		ap, err := netip.ParseAddrPort(string(buf[:n]))
		if err != nil {
			t.Fatalf("echo reply %q: %v", buf[:n], err)
		}
		return ap
	}
	t.Fatalf("no echo from %v", echo)
	return netip.AddrPort{}
}

// silent reports whether nothing arrives on c within probeWait.
func silent(c *net.UDPConn) bool {
	buf := make([]byte, 100)
	_ = c.SetReadDeadline(time.Now().Add(probeWait))
	_, _, err := c.ReadFromUDPAddrPort(buf)
	return errors.Is(err, os.ErrDeadlineExceeded)
}

func TestLabNATBehaviour(t *testing.T) {
	lab := natlab.New(t, natlab.Spec{
		NATs: []natlab.NATSpec{
			{Name: "eim", Kind: natlab.EndpointIndependent},
			{Name: "sym", Kind: natlab.RandomPort},
		},
		Public: []string{"s1", "s2"},
	})
	s1, s2 := lab.MustHost(t, "s1"), lab.MustHost(t, "s2")
	echoes := []netip.AddrPort{startEcho(t, s1, echoPort), startEcho(t, s2, echoPort), startEcho(t, s2, echoPort+1)}

	t.Run("endpoint-independent", func(t *testing.T) {
		nat := lab.NAT("eim")
		c, err := nat.Host.ListenUDP(privatePort)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		want := netip.AddrPortFrom(nat.PublicAddr(), privatePort)
		for _, e := range echoes {
			if got := observed(t, c, e); got != want {
				t.Errorf("%v saw %v, want the port-preserving mapping %v", e, got, want)
			}
		}
		// Filtering is address- and port-dependent: a public host the
		// socket has not sent to cannot use the mapping.
		stranger, err := s1.ListenUDP(echoPort + 2)
		if err != nil {
			t.Fatal(err)
		}
		defer stranger.Close()
		if _, err := stranger.WriteToUDPAddrPort([]byte("unsolicited"), want); err != nil {
			t.Fatal(err)
		}
		if !silent(c) {
			t.Error("a packet from an endpoint the private host never sent to came through the mapping")
		}
	})

	t.Run("random-port", func(t *testing.T) {
		nat := lab.NAT("sym")
		c, err := nat.Host.ListenUDP(privatePort)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ports := map[uint16]bool{}
		for _, e := range echoes {
			got := observed(t, c, e)
			if got.Addr() != nat.PublicAddr() {
				t.Errorf("%v saw %v, want the NAT's address %v", e, got, nat.PublicAddr())
			}
			ports[got.Port()] = true
		}
		// Three destinations, three fresh random ports: two equal would
		// be a 1-in-20000 coincidence, all equal means no randomisation.
		if len(ports) < 2 {
			t.Errorf("every destination saw the same port %v: mapping is not endpoint-dependent", ports)
		}
	})

	t.Run("unsolicited-inbound-blocked", func(t *testing.T) {
		for _, name := range []string{"eim", "sym"} {
			nat := lab.NAT(name)
			// Listening, but it never sent anything: there is no mapping.
			c, err := nat.Host.ListenUDP(privatePort + 1)
			if err != nil {
				t.Fatal(err)
			}
			src, err := s1.ListenUDP(0)
			if err != nil {
				t.Fatal(err)
			}
			for _, dst := range []netip.AddrPort{
				netip.AddrPortFrom(nat.PublicAddr(), privatePort+1),
				nat.Host.AddrPort(privatePort + 1), // the private address: no route
			} {
				_, _ = src.WriteToUDPAddrPort([]byte("unsolicited"), dst)
			}
			if !silent(c) {
				t.Errorf("%s: an unsolicited packet reached the private host", name)
			}
			c.Close()
			src.Close()
		}
	})
}
