//go:build linux

package portmaplab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/interop/natlab/portmaplab"
	"github.com/alkdev/irohspoke/nat/portmap"
)

const msgTimeout = 10 * time.Second

// child is the mapper process inside the LAN namespace.
type child struct {
	t       *testing.T
	proc    *natlab.Proc
	pending []childMsg
}

func startChild(t *testing.T, lab *portmaplab.Lab, cfg childConfig) *child {
	t.Helper()
	spec, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, proc: lab.LAN.Start(t, self, "-test.run=^TestMapperChild$", "-portmaplab.child="+string(spec))}
	c.await(func(m childMsg) bool { return m.Kind == "ready" })
	return c
}

// await returns the first message (buffered or new) that match accepts,
// failing the test after msgTimeout.
func (c *child) await(match func(childMsg) bool) childMsg {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), msgTimeout)
	defer cancel()
	m, err := c.awaitCtx(ctx, match)
	if err != nil {
		c.t.Fatalf("child: %v", err)
	}
	return m
}

// awaitCtx is await until ctx ends; other messages are kept for later.
func (c *child) awaitCtx(ctx context.Context, match func(childMsg) bool) (childMsg, error) {
	for i, m := range c.pending {
		if match(m) {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return m, nil
		}
	}
	for {
		line, err := c.proc.Line(ctx)
		if err != nil {
			return childMsg{}, err
		}
		var m childMsg
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &m) != nil {
			continue // the test framework's own output
		}
		switch {
		case m.Kind == "log":
			c.t.Logf("child: %s", m.Data)
		case match(m):
			return m, nil
		default:
			c.pending = append(c.pending, m)
		}
	}
}

func (c *child) send(cmd string) {
	if _, err := fmt.Fprintln(c.proc.Stdin, cmd); err != nil {
		c.t.Fatalf("child stdin: %v", err)
	}
}

func (c *child) mapped() childMsg {
	c.t.Helper()
	return c.await(func(m childMsg) bool { return m.Kind == "event" && m.External != "" })
}

func (c *child) stats() portmap.Stats {
	c.t.Helper()
	c.send("stats")
	return *c.await(func(m childMsg) bool { return m.Kind == "stats" }).Stats
}

func (c *child) close() {
	c.t.Helper()
	c.send("close")
	if m := c.await(func(m childMsg) bool { return m.Kind == "closed" }); m.Err != "" {
		c.t.Fatalf("Close: %s", m.Err)
	}
}

// reaches sends payload from the public host to ext and reports whether
// the child's socket got it within wait.
func (c *child) reaches(pub *net.UDPConn, ext netip.AddrPort, payload string, wait time.Duration) bool {
	c.t.Helper()
	if _, err := pub.WriteToUDPAddrPort([]byte(payload), ext); err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err := c.awaitCtx(ctx, func(m childMsg) bool { return m.Kind == "recv" && m.Data == payload })
	return err == nil
}

// leaseFor finds the lab's lease of the child's port.
func leaseFor(t *testing.T, lab *portmaplab.Lab, ext netip.AddrPort) (portmaplab.Lease, bool) {
	t.Helper()
	leases, err := lab.Leases()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leases {
		if l.Proto == "UDP" && l.ExternalPort == ext.Port() {
			return l, true
		}
	}
	return portmaplab.Lease{}, false
}
