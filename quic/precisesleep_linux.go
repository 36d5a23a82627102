package quic

import (
	"syscall"
	"time"
)

// preciseSleep sleeps d in nanosleep, whose timeout is not rounded up to
// the millisecond as the netpoller's is. The goroutine holds its thread
// meanwhile; the runtime hands the thread's P to others.
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
