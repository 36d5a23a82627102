package streams

import "time"

// recvWindow is receive-side flow control for one stream or the whole
// connection (RFC 9000 §4.1).
//
// When to advertise: a new limit (consumed + window) is announced once the
// application has consumed at least a quarter of the window since the last
// announcement. A quarter keeps the peer from stalling while it waits for
// the update (three quarters of a window are still in flight) without
// sending an update per packet.
//
// Auto-tuning: each announcement closes an "epoch". If the reader drained
// the consumed part of the window faster than four round trips per full
// window would allow, the window is the bottleneck, so it doubles (up to
// maxWindow). The same rule is used by quic-go; noq keeps fixed windows.
type recvWindow struct {
	window    uint64 // current window size
	maxWindow uint64 // auto-tuning cap
	limit     uint64 // highest limit committed to (sent or about to be)
	consumed  uint64 // bytes read or discarded by the application
	sent      uint64 // highest limit put into a frame (or transport parameter)

	epochStart  time.Time
	epochOffset uint64
}

func newRecvWindow(initial, maxWindow uint64) recvWindow {
	if maxWindow < initial {
		maxWindow = initial
	}
	return recvWindow{window: initial, maxWindow: maxWindow, limit: initial, sent: initial}
}

// allows reports whether the peer may send up to offset end.
func (w *recvWindow) allows(end uint64) bool { return end <= w.limit }

// wantsUpdate reports whether enough was consumed to justify announcing a
// larger limit.
func (w *recvWindow) wantsUpdate() bool {
	return w.consumed+w.window >= w.limit+w.window/4 && w.limit < MaxVarint
}

// update auto-tunes the window and commits to a new limit, returning it.
func (w *recvWindow) update(now time.Time, rtt time.Duration) uint64 {
	w.autoTune(now, rtt)
	w.limit = min(max(w.limit, w.consumed+w.window), MaxVarint)
	return w.limit
}

func (w *recvWindow) autoTune(now time.Time, rtt time.Duration) {
	read := w.consumed - w.epochOffset
	if rtt > 0 && !w.epochStart.IsZero() && w.window < w.maxWindow && read > 0 {
		elapsed := now.Sub(w.epochStart)
		if elapsed >= 0 && float64(elapsed) < 4*float64(rtt)*float64(read)/float64(w.window) {
			w.window = min(2*w.window, w.maxWindow)
		}
	}
	w.epochStart = now
	w.epochOffset = w.consumed
}

// ensureWindow raises the window to at least n (bounded by maxWindow); the
// connection window follows growing stream windows this way.
func (w *recvWindow) ensureWindow(n uint64) {
	if n > w.window {
		w.window = n
		w.maxWindow = max(w.maxWindow, n)
	}
}
