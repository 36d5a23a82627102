// Package notify lets tests wait for a condition instead of polling it:
// whatever changes the state calls Notify, and the waiter checks its
// condition again at each change.
package notify

import (
	"sync"
	"time"
)

// Signal broadcasts that something changed. The zero value is ready; any
// number of goroutines may wait on the same change.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// C returns a channel closed at the next Notify. Take it before reading
// the state it guards, so no change is missed.
func (s *Signal) C() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Notify wakes everyone waiting on C.
func (s *Signal) Notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// Until waits until cond holds, checking it now and after each Notify. It
// reports false if d passed first.
func (s *Signal) Until(d time.Duration, cond func() bool) bool {
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for {
		changed := s.C()
		if cond() {
			return true
		}
		select {
		case <-changed:
		case <-timeout.C:
			return cond()
		}
	}
}
