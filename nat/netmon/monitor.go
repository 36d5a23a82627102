package netmon

import (
	"sync"
	"time"

	"github.com/alkdev/irohspoke/nat/internal/slot"
)

// iroh's debounce (netwatch actor.rs); the poll interval is ours.
const (
	defaultDebounce     = 250 * time.Millisecond
	defaultPollInterval = 10 * time.Second
)

// Event is one observed change.
type Event struct {
	Major bool  // default route or usable interface addresses changed
	Old   State // before
	New   State // after
}

// Options configure a Monitor; the zero value is iroh's behaviour.
type Options struct {
	Debounce     time.Duration // quiet time before the state is re-read (250 ms)
	PollInterval time.Duration // where there is no netlink (10 s)
}

// Monitor reports network changes until closed.
type Monitor struct {
	events  chan Event
	trigger chan struct{}
	stop    chan struct{}
	done    chan struct{}
	watch   watcher
	opts    Options

	mu    sync.Mutex
	state State
	once  sync.Once
}

// testHookSubscribed runs between subscribing and reading the baseline.
var testHookSubscribed = func() {}

// watcher is the OS's change source; it calls poke on activity.
type watcher interface{ close() error }

// New starts a Monitor.
func New(opts Options) (*Monitor, error) {
	if opts.Debounce <= 0 {
		opts.Debounce = defaultDebounce
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = defaultPollInterval
	}
	m := &Monitor{events: make(chan Event, 1), trigger: make(chan struct{}, 1), stop: make(chan struct{}),
		done: make(chan struct{}), opts: opts}
	// Subscribe before reading the baseline: a change in between pokes
	// the monitor instead of being missed.
	var err error
	if m.watch, err = startWatcher(m.poke, opts.PollInterval); err != nil {
		return nil, err
	}
	testHookSubscribed()
	if m.state, err = ReadState(); err != nil {
		_ = m.watch.close()
		return nil, err
	}
	go m.run()
	return m, nil
}

// Events delivers changes. An unread event is merged with the next one
// (Old kept, New replaced, Major or-ed), so a slow reader loses nothing
// that matters. Closed by Close.
func (m *Monitor) Events() <-chan Event { return m.events }

// State returns the latest snapshot.
func (m *Monitor) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state.clone()
}

// Close stops watching and closes Events.
func (m *Monitor) Close() error {
	var err error
	m.once.Do(func() {
		err = m.watch.close()
		close(m.stop)
		<-m.done
	})
	return err
}

// poke notes activity; bursts collapse into one check.
func (m *Monitor) poke() {
	select {
	case m.trigger <- struct{}{}:
	default:
	}
}

func (m *Monitor) run() {
	defer close(m.done)
	defer close(m.events)
	var debounce <-chan time.Time
	for {
		select {
		case <-m.stop:
			return
		case <-m.trigger:
			debounce = time.After(m.opts.Debounce)
		case <-debounce:
			debounce = nil
			m.check()
		}
	}
}

func (m *Monitor) check() {
	cur, err := ReadState()
	if err != nil {
		return
	}
	m.mu.Lock()
	old := m.state
	changed, major := Classify(old, cur)
	if changed {
		m.state = cur
	}
	m.mu.Unlock()
	if changed {
		m.emit(Event{Major: major, Old: old.clone(), New: cur.clone()})
	}
}

// emit merges with an unread event instead of dropping it.
func (m *Monitor) emit(e Event) {
	slot.Put(m.events, e, func(unread, e Event) Event {
		return Event{Major: e.Major || unread.Major, Old: unread.Old, New: e.New}
	})
}
