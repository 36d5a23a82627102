package interoptest

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/internal/hubtest"
	"github.com/alkdev/irohspoke/internal/notify"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/spoke"
	"github.com/alkdev/irohspoke/wire"
)

func TestMain(m *testing.M) { os.Exit(interop.InNetns(m)) }

func newEndpoint(t testing.TB, cfg quic.Config) *quic.Endpoint { return hubtest.Endpoint(t, cfg) }

func irohHubAddr(t testing.TB, h *interop.Hub) identity.EndpointAddr {
	t.Helper()
	id, err := identity.ParseEndpointID(h.EndpointID)
	if err != nil {
		t.Fatal(err)
	}
	ap, ok := h.AddrV4()
	if !ok {
		t.Fatal("hub has no IPv4 address")
	}
	return identity.EndpointAddr{ID: id, Addrs: []netip.AddrPort{ap}}
}

func dial(t testing.TB, ep *quic.Endpoint, addr identity.EndpointAddr, opts ...spoke.Option) *spoke.Target {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tg, err := spoke.DialVia(ctx, spoke.NewQUICDialer(ep), addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

// startGoHub runs our hub on loopback.
func startGoHub(t testing.TB) identity.EndpointAddr { return hubtest.Start(t, hub.Options{}).Addr }

// collector records received envelopes by type and id.
type collector struct {
	mu      sync.Mutex
	counts  map[string]int
	arrived notify.Signal
}

func collect(tg *spoke.Target) *collector {
	c := &collector{counts: map[string]int{}}
	tg.AddListener(spoke.Wildcard, func(e wire.Envelope) {
		c.mu.Lock()
		c.counts[e.Type+"/"+e.ID]++
		c.mu.Unlock()
		c.arrived.Notify()
	})
	return c
}

// waitUntil waits until done (called with c.mu held) reports true,
// checking again on every arrival; after d it fails with what().
func (c *collector) waitUntil(t testing.TB, d time.Duration, done func() bool, what func() string) {
	t.Helper()
	locked := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return done()
	}
	if !c.arrived.Until(d, locked) {
		c.mu.Lock()
		defer c.mu.Unlock()
		t.Fatal(what())
	}
}

// waitFor waits until every key has been seen at least once.
func (c *collector) waitFor(t testing.TB, d time.Duration, keys ...string) {
	t.Helper()
	missing := ""
	c.waitUntil(t, d, func() bool {
		for _, k := range keys {
			if c.counts[k] == 0 {
				missing = k
				return false
			}
		}
		return true
	}, func() string { return "never received " + missing })
}

func (c *collector) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[key]
}

func echoKeys(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("ev.echo/%s%d", prefix, i))
	}
	return out
}

func dispatchRange(t testing.TB, tg *spoke.Target, prefix string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		e := wire.Envelope{Type: "ev", ID: fmt.Sprintf("%s%d", prefix, i), Payload: []byte(`{"n":1}`)}
		if err := tg.Dispatch(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func randomSecretHex(t testing.TB) string {
	t.Helper()
	var b [32]byte
	for i := range b {
		b[i] = byte(i*7 + int(time.Now().UnixNano()>>uint(i%8)))
	}
	return hex.EncodeToString(b[:])
}

// fanout counts the forwarded (not echoed) frames whose key contains from.
func (c *collector) fanout(from string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fanoutLocked(from)
}

func (c *collector) fanoutLocked(from string) int {
	got := 0
	for k, v := range c.counts {
		if !strings.Contains(k, ".echo") && strings.Contains(k, from) {
			got += v
		}
	}
	return got
}

// waitFanout waits until n forwarded (not echoed) frames whose key contains
// from have arrived.
func (c *collector) waitFanout(t *testing.T, from string, n int, within time.Duration) {
	t.Helper()
	c.waitUntil(t, within, func() bool { return c.fanoutLocked(from) >= n }, func() string {
		return fmt.Sprintf("got %d fan-out frames from %q, want %d: %v", c.fanoutLocked(from), from, n, c.counts)
	})
}

// fence dispatches one more event and waits for its echo. The hub echoes
// in order on the one stream, so once it is back every echo of an earlier
// event (a duplicate from a resend included) has arrived too.
func (c *collector) fence(t testing.TB, tg *spoke.Target, within time.Duration) {
	t.Helper()
	dispatchRange(t, tg, "fence", 0, 1)
	c.waitFor(t, within, echoKeys("fence", 0, 1)...)
}
