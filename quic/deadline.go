package quic

import (
	"sync"
	"time"
)

// deadline is a settable point in time with a channel that is closed once
// it passes, so blocked calls can select on it.
type deadline struct {
	mu    sync.Mutex
	ch    chan struct{} // closed when the current deadline passes
	timer *time.Timer
	gen   uint64 // invalidates timers of earlier deadlines
}

func (d *deadline) init() { d.ch = make(chan struct{}) }

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// set moves the deadline to t; the zero time removes it.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if isClosed(d.ch) {
		d.ch = make(chan struct{})
	}
	if t.IsZero() {
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		close(d.ch)
		return
	}
	gen, ch := d.gen, d.ch
	d.timer = time.AfterFunc(wait, func() {
		d.mu.Lock()
		if d.gen == gen {
			close(ch)
		}
		d.mu.Unlock()
	})
}

// expired returns a channel closed when the deadline has passed.
func (d *deadline) expired() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}
