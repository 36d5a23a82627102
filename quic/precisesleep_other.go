//go:build !linux

package quic

import "time"

// preciseSleep is time.Sleep: outside Linux the netpollers wait with
// finer timeouts (kqueue takes nanoseconds).
func preciseSleep(d time.Duration) { time.Sleep(d) }
