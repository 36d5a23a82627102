package notify

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestUntilWakesOnNotify(t *testing.T) {
	var s Signal
	var n atomic.Int32
	done := make(chan bool)
	go func() { done <- s.Until(time.Minute, func() bool { return n.Load() == 3 }) }()
	for range 3 {
		n.Add(1)
		s.Notify()
	}
	if !<-done {
		t.Fatal("Until gave up with the condition met")
	}
}

func TestUntilTimesOut(t *testing.T) {
	var s Signal
	if s.Until(time.Millisecond, func() bool { return false }) {
		t.Fatal("Until reported a condition that never held")
	}
}

func TestEveryWaiterWakes(t *testing.T) {
	var s Signal
	a, b := s.C(), s.C()
	s.Notify()
	for _, ch := range []<-chan struct{}{a, b} {
		select {
		case <-ch:
		default:
			t.Fatal("a waiter was not woken")
		}
	}
	select {
	case <-s.C():
		t.Fatal("a new channel is closed before the next Notify")
	default:
	}
}
