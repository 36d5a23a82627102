package lookup

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// publishEvent is one attempt seen through OnPublish.
type publishEvent struct {
	info EndpointInfo
	err  error
}

// virtualPublisher runs a PkarrPublisher on a manual clock against a real
// lookup server whose PUTs fail while failing is set.
type virtualPublisher struct {
	*PkarrPublisher
	clk     *manualClock
	srv     *Server
	events  chan publishEvent
	failing atomic.Bool
}

func newVirtualPublisher(t *testing.T) *virtualPublisher {
	t.Helper()
	v := &virtualPublisher{
		clk:    newManualClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)),
		srv:    NewServer(ServerOptions{PutBurst: -1}),
		events: make(chan publishEvent, 16),
	}
	h := v.srv.Handler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v.failing.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	key := newKey(t)
	v.PkarrPublisher = &PkarrPublisher{BaseURL: hs.URL + "/pkarr", Key: key, Clock: v.clk,
		OnPublish: func(info EndpointInfo, err error) { v.events <- publishEvent{info, err} }}
	t.Cleanup(func() { v.Close() })
	return v
}

// next waits for the next attempt (the publisher has armed its timer by
// then: OnPublish runs after that).
func (v *virtualPublisher) next(t *testing.T) publishEvent {
	t.Helper()
	select {
	case e := <-v.events:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no publish attempt")
		return publishEvent{}
	}
}

// published returns the stored packet's timestamp and records.
func (v *virtualPublisher) published(t *testing.T) (time.Time, EndpointInfo) {
	t.Helper()
	p := v.srv.Store().Get(v.Key.Public())
	if p == nil {
		t.Fatal("nothing stored")
	}
	info, err := p.EndpointInfo()
	if err != nil {
		t.Fatal(err)
	}
	return time.UnixMicro(int64(p.Timestamp)), info
}

// wantArmed checks the one pending timer fires after d from now.
func (v *virtualPublisher) wantArmed(t *testing.T, d time.Duration) {
	t.Helper()
	if got := v.clk.armed(); len(got) != 1 || !got[0].Equal(v.clk.Now().Add(d)) {
		t.Fatalf("timers armed at %v, want one at now+%v (%v)", got, d, v.clk.Now().Add(d))
	}
}

// TestPublisherAsIroh, in virtual time: publish at once, the relay URL
// only; republish after exactly 5 minutes; an address change publishes
// nothing, a relay change at once; Close stops it.
func TestPublisherAsIroh(t *testing.T) {
	v := newVirtualPublisher(t)
	relayA, relayB := "https://a.relay.example/", "https://b.relay.example/"
	addrs := []netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:4433")}

	v.UpdateAddrs("", nil) // knows nothing yet: nothing to publish
	v.UpdateAddrs(relayA, addrs)
	start := v.clk.Now()
	if e := v.next(t); e.err != nil {
		t.Fatal(e.err)
	}
	at, info := v.published(t)
	if !at.Equal(start) || !slices.Equal(info.Relays, []string{relayA}) || len(info.Addrs) != 0 {
		t.Fatalf("first packet at %v: %+v; want the relay only at %v", at, info, start)
	}
	v.wantArmed(t, DefaultRepublishInterval)

	v.clk.Advance(DefaultRepublishInterval - time.Second)
	v.UpdateAddrs(relayA, []netip.AddrPort{netip.MustParseAddrPort("192.0.2.2:4433")}) // filtered out: no change
	v.wantArmed(t, time.Second)
	v.clk.Advance(time.Second)
	if e := v.next(t); e.err != nil {
		t.Fatal(e.err)
	}
	if at, _ := v.published(t); !at.Equal(start.Add(DefaultRepublishInterval)) {
		t.Fatalf("republished at %v, want %v", at, start.Add(DefaultRepublishInterval))
	}

	v.clk.Advance(time.Minute)
	v.UpdateAddrs(relayB, addrs)
	e := v.next(t)
	if e.err != nil || !slices.Equal(e.info.Relays, []string{relayB}) {
		t.Fatalf("after the relay changed: %+v %v (an address change was published?)", e.info, e.err)
	}
	if at, _ := v.published(t); !at.Equal(start.Add(DefaultRepublishInterval + time.Minute)) {
		t.Fatalf("relay change published at %v", at)
	}
	v.wantArmed(t, DefaultRepublishInterval)

	v.Close()
	v.clk.Advance(time.Hour)
	select {
	case e := <-v.events:
		t.Fatalf("published after Close: %+v", e)
	default:
	}
}

// TestPublisherRetriesAsIroh: after the k-th failure in a row the next
// attempt comes k seconds later; a success resets the count and the
// 5-minute republish resumes.
func TestPublisherRetriesAsIroh(t *testing.T) {
	v := newVirtualPublisher(t)
	v.failing.Store(true)
	v.UpdateAddrs("https://a.relay.example/", nil)
	for k := 1; k <= 3; k++ {
		if e := v.next(t); e.err == nil {
			t.Fatalf("attempt %d succeeded against a failing relay", k)
		}
		v.wantArmed(t, time.Duration(k)*time.Second)
		if k == 3 {
			v.failing.Store(false)
		}
		v.clk.Advance(time.Duration(k) * time.Second)
	}
	if e := v.next(t); e.err != nil {
		t.Fatal(e.err)
	}
	v.wantArmed(t, DefaultRepublishInterval)
}

// TestPublisherPublishAddrs: with PublishAddrs the direct addresses are
// published and their change republishes; without a relay, as iroh, the
// relay-only filter publishes an empty record set.
func TestPublisherPublishAddrs(t *testing.T) {
	v := newVirtualPublisher(t)
	v.PublishAddrs = true
	a1 := []netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:1")}
	a2 := []netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:1"), netip.MustParseAddrPort("[2001:db8::1]:1")}
	v.UpdateAddrs("", a1)
	v.next(t)
	if _, info := v.published(t); !slices.Equal(info.Addrs, a1) || len(info.Relays) != 0 {
		t.Fatalf("%+v", info)
	}
	v.UpdateAddrs("", []netip.AddrPort{a1[0], a1[0]}) // the same records
	v.UpdateAddrs("", a2)
	v.next(t)
	if _, info := v.published(t); !slices.Equal(info.Addrs, a2) {
		t.Fatalf("address change: %+v", info)
	}

	relayOnly := newVirtualPublisher(t)
	relayOnly.UpdateAddrs("", a1)
	relayOnly.next(t)
	if _, info := relayOnly.published(t); len(info.Addrs)+len(info.Relays) != 0 {
		t.Fatalf("relay-only publisher without a relay published %+v", info)
	}
}

// TestPublisherUserData: user data alone is worth publishing; over-long
// user data is reported, not published.
func TestPublisherUserData(t *testing.T) {
	v := newVirtualPublisher(t)
	v.UserData = "hub"
	v.UpdateAddrs("", nil)
	v.next(t)
	if _, info := v.published(t); info.UserData != "hub" {
		t.Fatalf("%+v", info)
	}
	long := newVirtualPublisher(t)
	long.UserData = string(make([]byte, MaxUserDataLen+1))
	long.UpdateAddrs("https://a.relay.example/", nil)
	if e := long.next(t); !errors.Is(e.err, ErrUserDataTooLong) {
		t.Fatalf("over-long user data: %v", e.err)
	}
}
