package spoke

import "time"

// item is one dispatched frame waiting for its acknowledgement.
type item struct {
	frame    []byte // length prefix and body
	typ, id  string // for matching the hub's echo
	deadline time.Time
	end      int64 // end offset on the current stream; set while written
	echoed   bool  // the hub's echo arrived, so the hub has processed it
}

// queue is the lossless send queue. It is plain data, driven under the
// Target's lock, so its rules can be tested without goroutines or sockets.
//
// items[:written] have been handed to the current stream, in order, with
// their end offsets; items[written:] wait for a stream. An item leaves the
// queue only when the hub's QUIC stack has acknowledged all its bytes (or
// its echo came back), or when it is reported as failed.
type queue struct {
	items   []*item
	written int
	offset  int64 // bytes handed to the current stream
	bytes   int   // frame bytes held
}

func (q *queue) len() int { return len(q.items) }

func (q *queue) push(it *item) {
	q.items = append(q.items, it)
	q.bytes += len(it.frame)
}

// take hands the next unsent frames, up to about maxBytes (at least one),
// to the current stream and returns their bytes concatenated into buf.
func (q *queue) take(buf []byte, maxBytes int) []byte {
	for q.written < len(q.items) {
		it := q.items[q.written]
		if len(buf) > 0 && len(buf)+len(it.frame) > maxBytes {
			break
		}
		buf = append(buf, it.frame...)
		q.offset += int64(len(it.frame))
		it.end = q.offset
		q.written++
	}
	return buf
}

// acked drops the written frames the peer has acknowledged up to offset
// acked and returns how many left the queue.
func (q *queue) acked(acked int64) int {
	n := 0
	for n < q.written && (q.items[n].end <= acked || q.items[n].echoed) {
		q.bytes -= len(q.items[n].frame)
		q.items[n] = nil
		n++
	}
	if n > 0 {
		q.items = q.items[n:]
		q.written -= n
	}
	return n
}

// echo records the hub's echo of a written frame: the echo has type
// typ+".echo" and the frame's id. It reports whether a frame matched.
func (q *queue) echo(echoType, id string) bool {
	for _, it := range q.items[:q.written] {
		if !it.echoed && it.id == id && len(echoType) == len(it.typ)+len(echoSuffix) &&
			echoType[:len(it.typ)] == it.typ && echoType[len(it.typ):] == echoSuffix {
			it.echoed = true
			return true
		}
	}
	return false
}

// streamDied settles the dead stream: frames acknowledged up to acked, or
// echoed, are done; every other frame goes back, in order, to wait for the
// next stream. It returns how many frames will be sent again.
func (q *queue) streamDied(acked int64) int {
	q.acked(acked)
	kept, resent := q.items[:0], 0
	for i, it := range q.items {
		if it.echoed {
			q.bytes -= len(it.frame)
			continue
		}
		if i < q.written {
			resent++
		}
		it.end = 0
		kept = append(kept, it)
	}
	clear(q.items[len(kept):])
	q.items = kept
	q.written, q.offset = 0, 0
	return resent
}

// expire removes the frames not on the current stream whose deadline has
// passed; they will never be sent again.
func (q *queue) expire(now time.Time) []*item {
	var out []*item
	kept := q.items[:q.written]
	for _, it := range q.items[q.written:] {
		if !it.deadline.IsZero() && !now.Before(it.deadline) {
			out = append(out, it)
			q.bytes -= len(it.frame)
			continue
		}
		kept = append(kept, it)
	}
	clear(q.items[len(kept):])
	q.items = kept
	return out
}

// nextDeadline is the earliest deadline of a frame not on the stream.
func (q *queue) nextDeadline() time.Time {
	var d time.Time
	for _, it := range q.items[q.written:] {
		if !it.deadline.IsZero() && (d.IsZero() || it.deadline.Before(d)) {
			d = it.deadline
		}
	}
	return d
}

// drain removes everything still unacknowledged (the target is closing).
func (q *queue) drain() []*item {
	out := q.items
	q.items, q.written, q.offset, q.bytes = nil, 0, 0, 0
	return out
}
