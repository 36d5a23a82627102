package relayproto

import (
	"slices"
	"testing"
	"time"
)

func TestNegotiateVersion(t *testing.T) {
	cases := []struct {
		offer string
		want  Version
		ok    bool
	}{
		{SubprotocolOffer, V2, true},
		{"iroh-relay-v2, iroh-relay-v1", V2, true},
		{"iroh-relay-v1", V1, true},
		{"iroh-relay-v1,iroh-relay-v2", V2, true},
		{" foo ,\tiroh-relay-v1 , bar", V1, true},
		{"iroh-relay-v3", 0, false},
		{"IROH-RELAY-V2", 0, false},
		{"", 0, false},
		{",,", 0, false},
	}
	for _, c := range cases {
		v, ok := NegotiateVersion(c.offer)
		if v != c.want || ok != c.ok {
			t.Errorf("NegotiateVersion(%q) = %v, %v; want %v, %v", c.offer, v, ok, c.want, c.ok)
		}
	}
	for _, v := range []Version{V1, V2} {
		if got, ok := ParseSubprotocol(v.Subprotocol()); !ok || got != v {
			t.Errorf("ParseSubprotocol(%q) = %v, %v", v.Subprotocol(), got, ok)
		}
	}
	// The client requires an exact token in the answer.
	for _, s := range []string{" iroh-relay-v2", "iroh-relay-v2,iroh-relay-v1", ""} {
		if _, ok := ParseSubprotocol(s); ok {
			t.Errorf("ParseSubprotocol(%q) accepted", s)
		}
	}
	if Version(9).Subprotocol() != "" || Version(9).String() != "Version(9)" {
		t.Error("unknown version formatting")
	}
}

func TestSegments(t *testing.T) {
	payload := []byte("Hello World!")
	cases := []struct {
		seg  uint16
		want []string
	}{
		{6, []string{"Hello ", "World!"}},
		{5, []string{"Hello", " Worl", "d!"}},
		{12, []string{"Hello World!"}},
		{1200, []string{"Hello World!"}},
		{0, []string{"Hello World!"}},
	}
	for _, c := range cases {
		var got []string
		for s := range Segments(payload, c.seg) {
			got = append(got, string(s))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Segments(seg=%d) = %q, want %q", c.seg, got, c.want)
		}
	}
	for range Segments(nil, 6) {
		t.Error("empty payload yielded a segment")
	}
	for range Segments(nil, 0) {
		t.Error("empty payload yielded a segment")
	}
	// Early break, and segments must not be able to grow into the next one.
	b := &RelayToClientDatagramBatch{SegmentSize: 6, Payload: payload}
	for s := range b.Segments() {
		if cap(s) != 6 {
			t.Errorf("segment cap %d, want 6", cap(s))
		}
		break
	}
	n := 0
	for range (&ClientToRelayDatagramBatch{SegmentSize: 4, Payload: payload}).Segments() {
		n++
	}
	if n != 3 {
		t.Errorf("batch of 12 with seg 4: %d segments", n)
	}
}

func TestStatusFrame(t *testing.T) {
	f := StatusFrame(StatusSameEndpointIDConnected, V1)
	h, ok := f.(*Health)
	if !ok || h.Problem != "Another endpoint connected with the same endpoint id. No more messages will be received." {
		t.Errorf("v1 status frame = %#v", f)
	}
	if _, err := AppendFrameFor(nil, f, V1, RelayToClient); err != nil {
		t.Error(err)
	}
	f = StatusFrame(StatusRateLimited, V2)
	if s, ok := f.(*Status); !ok || s.Code != StatusRateLimited {
		t.Errorf("v2 status frame = %#v", f)
	}
	if _, err := AppendFrameFor(nil, f, V2, RelayToClient); err != nil {
		t.Error(err)
	}
	if got := StatusCode(77).HealthText(); got != "Unsupported health message (77)" {
		t.Errorf("unknown status text %q", got)
	}
	for _, c := range []StatusCode{StatusHealthy, StatusRateLimited} {
		if _, err := (&Health{Problem: c.HealthText()}).Append(nil); err != nil {
			t.Errorf("health text for %d: %v", c, err)
		}
	}
}

func TestPingTimeout(t *testing.T) {
	cases := []struct {
		rtt      time.Duration
		measured bool
		want     time.Duration
	}{
		{0, false, 5 * time.Second},
		{0, true, 500 * time.Millisecond},
		{100 * time.Millisecond, true, 500 * time.Millisecond},
		{1 * time.Second, true, 3 * time.Second},
		{3 * time.Second, true, 5 * time.Second},
	}
	for _, c := range cases {
		if got := PingTimeout(c.rtt, c.measured); got != c.want {
			t.Errorf("PingTimeout(%v, %v) = %v, want %v", c.rtt, c.measured, got, c.want)
		}
	}
}

func TestRestartingDurations(t *testing.T) {
	r := &Restarting{ReconnectInMillis: 10, TryForMillis: 20}
	if r.ReconnectIn() != 10*time.Millisecond || r.TryFor() != 20*time.Millisecond {
		t.Errorf("durations %v %v", r.ReconnectIn(), r.TryFor())
	}
}

func TestStrings(t *testing.T) {
	checks := map[string]string{
		TypeStatus.String():     "Status",
		FrameType(14).String():  "FrameType(14)",
		V2.String():             "iroh-relay-v2",
		ClientToRelay.String():  "client→relay",
		Direction(0).String():   "Direction(0)",
		CE.String():             "CE",
		ECN(4).String():         "ECN(invalid)",
		TypeClientAuth.String(): "ClientAuth",
	}
	for got, want := range checks {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
