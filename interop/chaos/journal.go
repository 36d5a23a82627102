package chaos

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/interop/soak"
	"github.com/alkdev/irohspoke/wire"
)

// EventType is the type of every chaos event; the hub echoes it as
// EventType+".echo" and forwards it to the other spokes.
const EventType = "chaos"

// Journal books one chaos run: for every spoke, when each numbered event
// was handed to it, and when echoes and other spokes' copies came back.
// Event IDs are soak.EventID(spoke, seq). Safe for concurrent use.
type Journal struct {
	mu     sync.Mutex
	spokes []*book
}

// book is one spoke's page of the journal.
type book struct {
	sentAt  []time.Time // by seq-1
	echoes  []int       // echo count by seq-1
	arrived []time.Time // echo arrival times, in order
	stray   int         // echoes or copies naming no event sent
	// Copies of other spokes' events: the last seq seen from each, and
	// what broke the order.
	lastFrom  []int
	firstFrom []int // first seq each sender sent after MarkSteady
	copies    int
	dupCopies int
	gapCopies int    // copies that skipped events since MarkSteady
	firstGap  string // the first skip, for the failure message
}

// NewJournal returns a journal for n spokes.
func NewJournal(n int) *Journal {
	j := &Journal{spokes: make([]*book, n)}
	for i := range j.spokes {
		b := &book{lastFrom: make([]int, n), firstFrom: make([]int, n)}
		for s := range b.firstFrom {
			b.firstFrom[s] = math.MaxInt // nothing is required before MarkSteady
		}
		j.spokes[i] = b
	}
	return j
}

// Send books a new event of spoke i handed over at at and returns its seq.
func (j *Journal) Send(i int, at time.Time) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	b := j.spokes[i]
	b.sentAt = append(b.sentAt, at)
	b.echoes = append(b.echoes, 0)
	return len(b.sentAt)
}

// MarkSteady records that every spoke is registered at the hub: from now
// on every event must reach every other spoke connected at the time. The
// hub only learns of a spoke from its first frame, so earlier copies may
// be missing.
func (j *Journal) MarkSteady() {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, b := range j.spokes {
		for s, other := range j.spokes {
			b.firstFrom[s] = len(other.sentAt) + 1
		}
	}
}

// Received books a frame spoke i printed at at: an echo of its own event
// or a copy of another spoke's; anything else is ignored.
func (j *Journal) Received(i int, e wire.Envelope, at time.Time) {
	echo := e.Type == EventType+wire.EchoSuffix
	if !echo && e.Type != EventType {
		return
	}
	sender, seq, ok := soak.ParseEventID(e.ID)
	j.mu.Lock()
	defer j.mu.Unlock()
	b := j.spokes[i]
	switch {
	case !ok || sender >= len(j.spokes) || seq > len(j.spokes[sender].sentAt) || (sender == i) != echo:
		b.stray++
	case echo:
		b.echoes[seq-1]++
		b.arrived = append(b.arrived, at)
	case seq <= b.lastFrom[sender]:
		b.dupCopies++
	default:
		if seq > b.lastFrom[sender]+1 && seq > b.firstFrom[sender] {
			if b.gapCopies == 0 {
				b.firstGap = fmt.Sprintf("from spoke %d event %d after %d at %s", sender, seq, b.lastFrom[sender], at.Format(time.StampMilli))
			}
			b.gapCopies++
		}
		b.lastFrom[sender] = seq
		b.copies++
	}
}

// Recovery is how long after end spoke i received its first echo; ok is
// false if none came.
func (j *Journal) Recovery(i int, end time.Time) (d time.Duration, ok bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	a := j.spokes[i].arrived
	k := sort.Search(len(a), func(k int) bool { return !a[k].Before(end) })
	if k == len(a) {
		return 0, false
	}
	return a[k].Sub(end), true
}

// Rules are what a fault allows to go wrong.
type Rules struct {
	// LostBefore: an event handed over before this time may lack its echo
	// (zero: none may). A hub killed after acknowledging an event but
	// before echoing it leaves such an event: delivered, never echoed.
	LostBefore time.Time
	// DupCopies allows other spokes to see an event twice: an event the
	// hub had forwarded but not acknowledged when the sender's connection
	// died (or the hub was killed) is sent again, as spoke/doc.go says.
	DupCopies bool
	// AllCopies requires every copy since MarkSteady (no spoke lost its
	// connection, so the hub had every spoke all along).
	AllCopies bool
}

// Check lists every broken promise: an event echoed twice, an event
// without echo that Rules do not excuse, stray frames, repeated copies
// and, with AllCopies, copies skipped or missing. (The hub forwards only
// to spokes connected at the time, so a spoke that lost its connection
// misses copies legitimately.)
func (j *Journal) Check(r Rules) []error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var errs []error
	for i, b := range j.spokes {
		for k, n := range b.echoes {
			switch {
			case n > 1:
				errs = append(errs, fmt.Errorf("spoke %d: event %d echoed %d times", i, k+1, n))
			case n == 0 && !b.sentAt[k].Before(r.LostBefore):
				errs = append(errs, fmt.Errorf("spoke %d: event %d (sent %s) never echoed", i, k+1, b.sentAt[k].Format(time.StampMilli)))
			}
		}
		if b.stray > 0 {
			errs = append(errs, fmt.Errorf("spoke %d: %d frames name no event sent", i, b.stray))
		}
		if b.dupCopies > 0 && !r.DupCopies {
			errs = append(errs, fmt.Errorf("spoke %d: %d copies repeated", i, b.dupCopies))
		}
		if !r.AllCopies {
			continue
		}
		if b.gapCopies > 0 {
			errs = append(errs, fmt.Errorf("spoke %d: %d copies skipped ahead, first %s", i, b.gapCopies, b.firstGap))
		}
		for s, other := range j.spokes {
			if s != i && b.lastFrom[s] < len(other.sentAt) {
				errs = append(errs, fmt.Errorf("spoke %d: copies of spoke %d end at event %d of %d", i, s, b.lastFrom[s], len(other.sentAt)))
			}
		}
	}
	return errs
}

// Settled reports whether everything Check would want has arrived.
func (j *Journal) Settled(r Rules) bool {
	return len(j.Check(r)) == 0
}

// Tally is one spoke's totals.
type Tally struct {
	Sent, Echoed, Unechoed, Copies, DupCopies, GapCopies int
}

func (t Tally) String() string {
	return fmt.Sprintf("sent=%d echoed=%d unechoed=%d copies=%d dup_copies=%d gap_copies=%d",
		t.Sent, t.Echoed, t.Unechoed, t.Copies, t.DupCopies, t.GapCopies)
}

// Tally adds up spoke i's page.
func (j *Journal) Tally(i int) Tally {
	j.mu.Lock()
	defer j.mu.Unlock()
	b := j.spokes[i]
	t := Tally{Sent: len(b.sentAt), Copies: b.copies, DupCopies: b.dupCopies, GapCopies: b.gapCopies}
	for _, n := range b.echoes {
		if n > 0 {
			t.Echoed++
		} else {
			t.Unechoed++
		}
	}
	return t
}
