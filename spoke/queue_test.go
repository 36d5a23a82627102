package spoke

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestQueueModel drives the queue alone with a seeded random schedule of
// dispatches, partial writes, partial acknowledgements, echoes and stream
// deaths, and checks that the peer's application (which sees exactly the
// acknowledged or echoed frames) processes every frame once, in order.
func TestQueueModel(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		var q queue
		var processed []int
		var stream []byte // bytes handed to the current stream
		var acked int64
		parsed := int64(0)
		next := 0
		process := func(upto int64) {
			for parsed < upto {
				n := int64(binary.BigEndian.Uint32(stream[parsed:]))
				if parsed+4+n > upto {
					return
				}
				var id int
				fmt.Sscanf(string(stream[parsed+4:parsed+4+n]), "%d", &id)
				processed = append(processed, id)
				parsed += 4 + n
			}
		}
		for step := 0; step < 300; step++ {
			switch rng.IntN(6) {
			case 0, 1:
				body := fmt.Appendf(nil, "%d", next)
				frame := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
				q.push(&item{frame: append(frame, body...), typ: "t", id: fmt.Sprint(next)})
				next++
			case 2:
				stream = q.take(stream, 1+rng.IntN(40))
			case 3:
				acked += rng.Int64N(int64(len(stream)) - acked + 1)
				process(acked)
				q.acked(acked)
			case 4:
				// The peer echoes the first complete frame it has but
				// not yet acknowledged; it processed it.
				if parsed < int64(len(stream)) {
					n := int64(binary.BigEndian.Uint32(stream[parsed:]))
					end := parsed + 4 + n
					process(end)
					id := string(stream[end-n : end])
					q.echo("t.echo", id)
				}
			case 5:
				if rng.IntN(3) == 0 {
					q.streamDied(acked)
					stream, acked, parsed = nil, 0, 0
				}
			}
		}
		// Drain on a perfect final stream.
		q.streamDied(acked)
		stream, acked, parsed = q.take(nil, 1<<30), 0, 0
		process(int64(len(stream)))
		q.acked(int64(len(stream)))
		want := make([]int, next)
		for i := range want {
			want[i] = i
		}
		if !slices.Equal(processed, want) {
			t.Fatalf("seed %d: processed %v, want 0..%d once each", seed, processed, next-1)
		}
		if q.len() != 0 || q.bytes != 0 {
			t.Fatalf("seed %d: queue not empty: %d items, %d bytes", seed, q.len(), q.bytes)
		}
	}
}

func TestQueueExpire(t *testing.T) {
	var q queue
	now := time.Unix(100, 0)
	q.push(&item{frame: []byte("0000a"), deadline: now})
	q.push(&item{frame: []byte("0000b"), deadline: now.Add(time.Second)})
	q.push(&item{frame: []byte("0000c")})
	q.take(nil, 5) // "a" is on the stream: it cannot expire
	if got := q.nextDeadline(); !got.Equal(now.Add(time.Second)) {
		t.Fatalf("next deadline %v", got)
	}
	if out := q.expire(now.Add(2 * time.Second)); len(out) != 1 || string(out[0].frame) != "0000b" {
		t.Fatalf("expired %v", out)
	}
	if q.len() != 2 || q.bytes != 10 {
		t.Fatalf("queue %d items %d bytes", q.len(), q.bytes)
	}
}

func TestBackoff(t *testing.T) {
	o := defaultOptions()
	o.jitter = 0
	want := []time.Duration{100, 200, 400, 800, 1600, 2000, 2000}
	for i, w := range want {
		if got := o.backoff(i + 1); got != w*time.Millisecond {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	o.jitter, o.rand = 0.5, func() float64 { return 1 }
	if got := o.backoff(1); got != 150*time.Millisecond {
		t.Errorf("jittered backoff %v", got)
	}
}
