package main

import "testing"

// TestEchoWaitRearms: --wait-echo waits for the echoes of events sent
// after all earlier ones came back, not only for the first batch.
func TestEchoWaitRearms(t *testing.T) {
	w := newEchoWait(true)
	ready := func() bool {
		select {
		case <-w.done():
			return true
		default:
			return false
		}
	}
	if ready() {
		t.Fatal("done before anything was sent")
	}
	w.expect("1")
	w.got("1")
	if !ready() {
		t.Fatal("not done after the only echo came back")
	}
	w.expect("2")
	if ready() {
		t.Fatal("done with the echo of event 2 still owed")
	}
	w.got("2")
	if !ready() {
		t.Fatal("not done after every echo came back")
	}
}
