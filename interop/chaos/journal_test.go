package chaos

import (
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/soak"
	"github.com/alkdev/irohspoke/wire"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func echoOf(spoke, seq int) wire.Envelope {
	return wire.Envelope{Type: EventType + wire.EchoSuffix, ID: soak.EventID(spoke, seq)}
}

func copyOf(spoke, seq int) wire.Envelope {
	return wire.Envelope{Type: EventType, ID: soak.EventID(spoke, seq)}
}

// exchange books n events per spoke of a two-spoke journal, each echoed
// and copied 10 ms after it was sent.
func exchange(j *Journal, from, n int) {
	for k := range n {
		ms := from + 20*k
		for s := range 2 {
			seq := j.Send(s, at(ms))
			j.Received(s, echoOf(s, seq), at(ms+10))
			j.Received(1-s, copyOf(s, seq), at(ms+10))
		}
	}
}

func errorsText(errs []error) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error() + "\n")
	}
	return b.String()
}

func TestJournalCleanRun(t *testing.T) {
	j := NewJournal(2)
	exchange(j, 0, 3)
	j.MarkSteady()
	exchange(j, 100, 3)
	strict := Rules{AllCopies: true}
	if errs := j.Check(strict); len(errs) != 0 || !j.Settled(strict) {
		t.Fatalf("clean run flagged:\n%s", errorsText(errs))
	}
	if got := j.Tally(0).String(); got != "sent=6 echoed=6 unechoed=0 copies=6 dup_copies=0 gap_copies=0" {
		t.Fatalf("tally %s", got)
	}
}

func TestJournalCopiesBeforeSteadyMayBeMissing(t *testing.T) {
	j := NewJournal(2)
	// Spoke 1 joins late: it misses spoke 0's first event.
	j.Send(0, at(0))
	j.Received(0, echoOf(0, 1), at(5))
	exchange(j, 10, 2) // spoke 0's events 2 and 3 reach spoke 1
	j.MarkSteady()
	exchange(j, 100, 2)
	if errs := j.Check(Rules{AllCopies: true}); len(errs) != 0 {
		t.Fatalf("a copy missing before MarkSteady was flagged:\n%s", errorsText(errs))
	}
}

func TestJournalFlagsBrokenPromises(t *testing.T) {
	cases := []struct {
		name  string
		rules Rules
		book  func(j *Journal)
		want  string
	}{
		{"echo twice", Rules{}, func(j *Journal) { j.Received(0, echoOf(0, 1), at(200)) }, "echoed 2 times"},
		{"never echoed", Rules{}, func(j *Journal) { j.Send(0, at(200)) }, "never echoed"},
		{"lost before a kill is excused only before it", Rules{LostBefore: at(150)}, func(j *Journal) {
			j.Send(0, at(140))
			j.Send(0, at(160))
		}, "event 6 (sent"},
		{"stray echo", Rules{}, func(j *Journal) { j.Received(0, echoOf(0, 99), at(200)) }, "name no event"},
		{"echo of the other spoke", Rules{}, func(j *Journal) { j.Received(0, echoOf(1, 1), at(200)) }, "name no event"},
		{"own event as a copy", Rules{}, func(j *Journal) { j.Received(0, copyOf(0, 1), at(200)) }, "name no event"},
		{"repeated copy", Rules{}, func(j *Journal) { j.Received(1, copyOf(0, 2), at(200)) }, "copies repeated"},
		{"skipped copy", Rules{AllCopies: true}, func(j *Journal) {
			j.Send(0, at(200))
			j.Send(0, at(210))
			j.Received(1, copyOf(0, 6), at(220))
		}, "skipped ahead, first from spoke 0 event 6 after 4"},
		{"missing last copy", Rules{AllCopies: true}, func(j *Journal) { j.Send(0, at(200)) }, "copies of spoke 0 end at event 4 of 5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := NewJournal(2)
			exchange(j, 0, 2)
			j.MarkSteady()
			exchange(j, 100, 2)
			c.book(j)
			errs := errorsText(j.Check(c.rules))
			if !strings.Contains(errs, c.want) {
				t.Fatalf("want an error containing %q, got:\n%s", c.want, errs)
			}
			if j.Settled(c.rules) {
				t.Fatal("journal with a broken promise counts as settled")
			}
		})
	}
}

func TestJournalExcusesWhatAHubKillAllows(t *testing.T) {
	j := NewJournal(2)
	exchange(j, 0, 2)
	j.MarkSteady()
	j.Send(0, at(100))                   // acknowledged by the killed hub, never echoed
	j.Received(1, copyOf(0, 3), at(105)) // forwarded by the killed hub
	j.Received(1, copyOf(0, 3), at(300)) // sent again to the new hub
	r := Rules{LostBefore: at(150), DupCopies: true}
	if errs := j.Check(r); len(errs) != 0 {
		t.Fatalf("hub-kill leftovers flagged:\n%s", errorsText(errs))
	}
	if tl := j.Tally(1); tl.DupCopies != 1 {
		t.Fatalf("tally %s, want one repeated copy", tl)
	}
}

func TestJournalRecovery(t *testing.T) {
	j := NewJournal(1)
	for _, ms := range []int{0, 100, 900} {
		seq := j.Send(0, at(ms))
		j.Received(0, echoOf(0, seq), at(ms+20))
	}
	if d, ok := j.Recovery(0, at(500)); !ok || d != 420*time.Millisecond {
		t.Fatalf("recovery after 500 ms: %v, %v; want 420ms", d, ok)
	}
	if d, ok := j.Recovery(0, at(120)); !ok || d != 0 {
		t.Fatalf("recovery at an echo: %v, %v; want 0", d, ok)
	}
	if _, ok := j.Recovery(0, at(1000)); ok {
		t.Fatal("recovery reported without a later echo")
	}
}

func TestJournalIgnoresOtherFrames(t *testing.T) {
	j := NewJournal(1)
	j.Received(0, wire.Envelope{Type: "error", ID: "0.1"}, at(0))
	j.Received(0, wire.Envelope{Type: "other.echo", ID: "x"}, at(0))
	if errs := j.Check(Rules{AllCopies: true}); len(errs) != 0 {
		t.Fatalf("foreign frames flagged:\n%s", errorsText(errs))
	}
}
