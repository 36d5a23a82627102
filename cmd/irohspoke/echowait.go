package main

import "sync"

// echoWait tracks the events dial sent whose echo has not come back yet
// (--wait-echo), so a one-shot dial exits on the last echo instead of
// waiting out --linger. A nil *echoWait waits for nothing.
type echoWait struct {
	mu      sync.Mutex
	pending map[string]int // event id -> echoes still owed
	sent    bool           // something was expected
	all     chan struct{}  // closed once something was sent and all came back
}

func newEchoWait(on bool) *echoWait {
	if !on {
		return nil
	}
	return &echoWait{pending: map[string]int{}, all: make(chan struct{})}
}

func (w *echoWait) expect(id string) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending[id]++
	w.sent = true
	select {
	case <-w.all:
		// Every earlier echo came back before this event was sent: wait
		// again (a stream ahead of its echoes closed all mid-way and
		// dial exited at the end of stdin with echoes still owed).
		w.all = make(chan struct{})
	default:
	}
}

// forget undoes expect for an event that was not sent.
func (w *echoWait) forget(id string) { w.got(id) }

func (w *echoWait) got(id string) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending[id] == 0 {
		return // not ours, or fan-out of someone else's event
	}
	if w.pending[id]--; w.pending[id] == 0 {
		delete(w.pending, id)
	}
	if len(w.pending) == 0 && w.sent {
		select {
		case <-w.all:
		default:
			close(w.all)
		}
	}
}

// nothingSent reports --wait-echo with no event sent: no echo is owed.
func (w *echoWait) nothingSent() bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.sent
}

// done is closed when every event sent has come back; nil (never ready)
// without --wait-echo.
func (w *echoWait) done() <-chan struct{} {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all
}
