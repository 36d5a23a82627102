package soak

import (
	"strings"
	"testing"
)

func TestLedgerCompleteExchange(t *testing.T) {
	l := NewLedger(3)
	for sender := range 3 {
		for range 2 {
			seq := l.NextSeq(sender)
			l.Echo(sender, EventID(sender, seq))
			for r := range 3 {
				if r != sender {
					l.Fanout(r, EventID(sender, seq))
				}
			}
		}
	}
	got := l.Tally()
	if !got.Complete() || got.Sent != 6 || got.Echoed != 6 || got.FanoutWant != 12 || got.FanoutGot != 12 {
		t.Fatalf("tally %s, want 6 sent, echoed and 12 copies, complete", got)
	}
}

func TestLedgerFlagsEveryFault(t *testing.T) {
	cases := []struct {
		name  string
		book  func(l *Ledger)
		field string // the Tally field that must show the fault
	}{
		{"missing echo", func(l *Ledger) { l.NextSeq(0); l.Fanout(1, "0.1") }, "spokes_behind=1"},
		{"duplicate echo", func(l *Ledger) { l.NextSeq(0); l.Echo(0, "0.1"); l.Echo(0, "0.1") }, "dup_echoes=1"},
		{"echo of another spoke's event", func(l *Ledger) { l.NextSeq(1); l.Echo(0, "1.1") }, "stray=1"},
		{"echo of an unsent event", func(l *Ledger) { l.Echo(0, "0.1") }, "stray=1"},
		{"garbled id", func(l *Ledger) { l.Fanout(0, "x.1") }, "stray=1"},
		{"own event fanned back", func(l *Ledger) { l.NextSeq(0); l.Fanout(0, "0.1") }, "stray=1"},
		{"unknown sender", func(l *Ledger) { l.Fanout(0, "7.1") }, "stray=1"},
		{"duplicate copy", func(l *Ledger) { l.NextSeq(1); l.Fanout(0, "1.1"); l.Fanout(0, "1.1") }, "dup_fanout=1"},
		{"skipped copy", func(l *Ledger) { l.NextSeq(1); l.NextSeq(1); l.Fanout(0, "1.2") }, "gap_fanout=1"},
		{"missing copy", func(l *Ledger) { l.NextSeq(1); l.Echo(1, "1.1") }, "fanout_got=0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewLedger(2)
			c.book(l)
			got := l.Tally()
			if got.Complete() {
				t.Fatalf("tally %s counts as complete", got)
			}
			if !strings.Contains(got.String(), c.field) {
				t.Fatalf("tally %s lacks %s", got, c.field)
			}
		})
	}
}

func TestLedgerUnsendTakesBackTheLastEvent(t *testing.T) {
	l := NewLedger(2)
	l.NextSeq(0)
	seq := l.NextSeq(0)
	l.Unsend(0, seq)
	l.Echo(0, "0.1")
	l.Fanout(1, "0.1")
	if got := l.Tally(); !got.Complete() || got.Sent != 1 {
		t.Fatalf("tally %s, want 1 event, complete", got)
	}
}

func TestParseEventID(t *testing.T) {
	for _, c := range []struct {
		id          string
		sender, seq int
		ok          bool
	}{
		{"0.1", 0, 1, true}, {"12.345", 12, 345, true},
		{"1.0", 0, 0, false}, {"-1.2", 0, 0, false}, {"1", 0, 0, false}, {"a.b", 0, 0, false},
		{"1.2.3", 0, 0, false}, {"", 0, 0, false}, {"1.", 0, 0, false},
	} {
		s, q, ok := ParseEventID(c.id)
		if ok != c.ok || (ok && (s != c.sender || q != c.seq)) {
			t.Errorf("ParseEventID(%q) = %d, %d, %v; want %d, %d, %v", c.id, s, q, ok, c.sender, c.seq, c.ok)
		}
	}
}

func FuzzParseEventID(f *testing.F) {
	for _, s := range []string{"0.1", "999.123456", "1.0", "x", "1.2.3", "-0.1", "+1.1", "99999999999999999999.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		s, q, ok := ParseEventID(id)
		if !ok {
			return
		}
		if s < 0 || q < 1 {
			t.Fatalf("ParseEventID(%q) = %d, %d accepted", id, s, q)
		}
		if back, _, _ := ParseEventID(EventID(s, q)); back != s {
			t.Fatalf("EventID(%d, %d) does not parse back", s, q)
		}
	})
}

func TestLedgerSettled(t *testing.T) {
	l := NewLedger(2)
	settled := func() bool {
		select {
		case <-l.Settled():
			return true
		default:
			return false
		}
	}
	seq := l.NextSeq(0)
	l.Echo(0, EventID(0, seq))
	if settled() {
		t.Fatal("settled with a copy missing")
	}
	l.Fanout(0, EventID(0, seq)) // stray: does not count
	l.Echo(0, EventID(0, seq))   // duplicate: does not count
	if settled() {
		t.Fatal("settled by a stray or duplicate")
	}
	l.Fanout(1, EventID(0, seq))
	if !settled() {
		t.Fatal("not settled with everything received")
	}
	seq = l.NextSeq(1)
	l.Unsend(1, seq)
	if !settled() {
		t.Fatal("not settled after the only missing event was taken back")
	}
}
