//go:build linux

package roamlab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/interop/natlab"
)

const (
	stepTimeout = 20 * time.Second
	// eventEvery paces the events of a stream.
	eventEvery = 20 * time.Millisecond
)

// hub is a Go or a real iroh hub: what a dial needs to reach it.
type hub struct {
	id   string
	addr netip.AddrPort // its IPv4 address, as its host sees it
	log  func() string  // its stderr
}

// hubKinds start a hub of each kind on a host, online at relayURL.
var hubKinds = []struct {
	name  string
	start func(t testing.TB, h *natlab.Host, relayURL string) hub
}{
	{"go-hub", startGoHub},
	{"iroh-hub", startIrohHub},
}

// startGoHub starts our hub configured as startIrohHub's (iroh's minimal
// preset plus the lab relay, port mapping on): without these flags it
// would keep trying to publish to dns.iroh.link from inside the lab.
func startGoHub(t testing.TB, h *natlab.Host, relayURL string) hub {
	t.Helper()
	g := h.StartGoHubWith(t, relayURL, "--publish=false", "--lookup=false")
	for _, a := range g.Addrs {
		if a.Addr().Is4() && !a.Addr().IsLoopback() {
			return hub{id: g.EndpointID, addr: a, log: g.Stderr}
		}
	}
	t.Fatalf("go hub has no IPv4 address: %v", g.Addrs)
	return hub{}
}

func startIrohHub(t testing.TB, h *natlab.Host, relayURL string) hub {
	t.Helper()
	ih := interop.StartHub(t, interop.HubOptions{Netns: h.Netns, Bind: "0.0.0.0:0", RelayURL: relayURL, OnlineTimeout: 10 * time.Second})
	ap, ok := ih.AddrV4()
	if !ok {
		t.Fatalf("iroh hub has no IPv4 address: %v", ih.Addrs)
	}
	return hub{id: ih.EndpointID, addr: ap, log: ih.Stderr.String}
}

// stream is an "irohspoke dial" sending numbered events at a steady pace
// and recording when each echo comes back.
type stream struct {
	t    testing.TB
	p    *natlab.Proc
	name string

	mu   sync.Mutex
	sent []time.Time         // by event number
	got  map[int][]time.Time // echo arrivals by event number
	bad  []string            // stdout lines that are no echo of ours

	stop     chan struct{}
	sending  sync.WaitGroup
	received chan struct{} // closed when stdout ends
}

// dial starts "irohspoke dial args..." on h and waits for its connected
// status line, on path ("direct", "relay") unless path is empty.
func dial(t testing.TB, h *natlab.Host, name, path string, args ...string) *stream {
	t.Helper()
	s := &stream{t: t, name: name, got: map[int][]time.Time{}, stop: make(chan struct{}), received: make(chan struct{})}
	// --wait-echo: dial exits on the last echo; --linger bounds a stall.
	s.p = h.Start(t, natlab.Irohspoke(t), append([]string{"dial", "--no-reconnect", "--wait-echo", "--linger", "5s"}, args...)...)
	go s.read()
	s.waitStatus("connected", path)
	return s
}

// read records every stdout line until the process ends.
func (s *stream) read() {
	defer close(s.received)
	for {
		l, err := s.p.Line(context.Background())
		if err != nil {
			return
		}
		now := time.Now()
		var env struct{ Type, ID string }
		jsonErr := json.Unmarshal([]byte(l), &env)
		n, convErr := strconv.Atoi(env.ID)
		s.mu.Lock()
		if jsonErr != nil || env.Type != s.name+".echo" || convErr != nil || n < 0 || n >= len(s.sent) {
			s.bad = append(s.bad, l)
		} else {
			s.got[n] = append(s.got[n], now)
		}
		s.mu.Unlock()
	}
}

// waitStatus waits for a status line with event (and path, if given).
func (s *stream) waitStatus(event, path string) time.Time {
	s.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		if s.hasStatus(event, path) {
			return time.Now()
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.t.Fatalf("no %s %s status line:\n%s", event, path, s.p.Stderr())
	return time.Time{}
}

// hasStatus reports whether stderr has a status line with event (and
// path, if given).
func (s *stream) hasStatus(event, path string) bool {
	for _, l := range strings.Split(s.p.Stderr(), "\n") {
		var st struct{ Event, Path string }
		if json.Unmarshal([]byte(l), &st) == nil && st.Event == event && (path == "" || st.Path == path) {
			return true
		}
	}
	return false
}

// start sends an event every eventEvery until finish.
func (s *stream) start() {
	s.sending.Go(func() {
		tick := time.NewTicker(eventEvery)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			s.mu.Lock()
			n := len(s.sent)
			s.sent = append(s.sent, time.Now())
			s.mu.Unlock()
			if _, err := fmt.Fprintf(s.p.Stdin, `{"type":"%s","id":"%d","payload":[%d]}`+"\n", s.name, n, n%256); err != nil {
				return
			}
		}
	})
}

// recovered waits until an event sent at or after since has come back
// and returns how long after since that was.
func (s *stream) recovered(since time.Time) time.Duration {
	s.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		var first time.Time
		for n, at := range s.sent {
			if !at.Before(since) && len(s.got[n]) > 0 && (first.IsZero() || s.got[n][0].Before(first)) {
				first = s.got[n][0]
			}
		}
		s.mu.Unlock()
		if !first.IsZero() {
			return first.Sub(since)
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.t.Fatalf("no echo of an event sent after %v:\n%s", since.Format(time.StampMilli), s.p.Stderr())
	return 0
}

// finish stops sending, closes stdin and requires the dial to exit 0
// (every event acknowledged) with every event echoed exactly once and
// the connection never lost.
func (s *stream) finish() {
	s.t.Helper()
	close(s.stop)
	s.sending.Wait()
	s.p.Stdin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	code, err := s.p.Wait(ctx)
	if err != nil || code != 0 {
		s.t.Fatalf("dial: exit %d, %v\n%s", code, err, s.p.Stderr())
	}
	<-s.received
	s.mu.Lock()
	defer s.mu.Unlock()
	var missing, dup []int
	for n := range s.sent {
		switch len(s.got[n]) {
		case 1:
		case 0:
			missing = append(missing, n)
		default:
			dup = append(dup, n)
		}
	}
	if len(missing) > 0 || len(dup) > 0 || len(s.bad) > 0 {
		s.t.Fatalf("%d events: missing %v, duplicated %v, unexpected lines %q", len(s.sent), missing, dup, s.bad)
	}
	for _, lost := range []string{"disconnected", "reconnected", "failed"} {
		if s.hasStatus(lost, "") {
			s.t.Fatalf("the connection was lost (%s):\n%s", lost, s.p.Stderr())
		}
	}
}

// events is how many events the stream sent.
func (s *stream) events() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// contains reports whether lines has a line containing every part.
func contains(lines []string, parts ...string) bool {
	return slices.ContainsFunc(lines, func(l string) bool {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				return false
			}
		}
		return true
	})
}
