package recovery

import (
	"encoding/binary"
	"testing"
	"time"
)

// FuzzAckRanges feeds arbitrary received packet numbers to a tracker with a
// small range cap and checks the ACK ranges: descending, disjoint and
// non-adjacent, within the cap, and covering exactly the received numbers
// at or above the oldest remembered one.
func FuzzAckRanges(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, uint8(4))
	f.Add([]byte{9, 3, 7, 1, 5, 2, 8, 0}, uint8(3))
	f.Add([]byte{200, 100, 50, 25, 12, 6, 3, 1, 0, 255}, uint8(2))
	f.Add([]byte{1, 1, 1, 2, 2, 0}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, limit uint8) {
		maxRanges := int(limit%16) + 1
		tr := NewAckTracker(0, 0, maxRanges, false)
		received := map[uint64]bool{}
		for i := 0; i+1 < len(data); i += 2 {
			pn := uint64(binary.BigEndian.Uint16(data[i:]))
			dup := tr.IsDuplicate(pn)
			if got := tr.OnPacketReceived(pn, true, ECN(data[i]%4), t0); got == dup {
				t.Fatalf("pn %d: OnPacketReceived %v but IsDuplicate %v", pn, got, dup)
			}
			if dup && !received[pn] && pn >= tr.minTracked {
				t.Fatalf("pn %d reported duplicate but never received", pn)
			}
			received[pn] = true
		}
		got := tr.AppendRanges(nil)
		if len(got) > maxRanges {
			t.Fatalf("%d ranges over cap %d", len(got), maxRanges)
		}
		covered := map[uint64]bool{}
		for i, r := range got {
			if r.Smallest > r.Largest {
				t.Fatalf("range %v inverted", r)
			}
			if i > 0 && r.Largest+1 >= got[i-1].Smallest {
				t.Fatalf("ranges %v and %v not descending with a gap", got[i-1], r)
			}
			for pn := r.Smallest; pn <= r.Largest; pn++ {
				if !received[pn] {
					t.Fatalf("range %v covers unreceived %d", r, pn)
				}
				covered[pn] = true
			}
		}
		for pn := range received {
			if pn >= tr.minTracked && !covered[pn] {
				t.Fatalf("received %d (>= min %d) missing from %v", pn, tr.minTracked, got)
			}
		}
	})
}

// FuzzOnAck sends a history of packets, some skipped, then applies
// arbitrary ACK frames and timeouts. It checks that nothing panics and
// that every sent packet is exactly one of acked, lost or outstanding, with
// in-flight bytes matching the outstanding ones.
func FuzzOnAck(f *testing.F) {
	f.Add([]byte{20, 0, 5, 3, 1, 0, 2, 10, 2, 5, 1, 0, 9})
	f.Add([]byte{3, 0, 0, 2, 0, 2, 0, 0, 1})
	f.Add([]byte{64, 7, 63, 0, 0, 40, 3, 30, 1, 20, 0, 10, 5})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		p := NewPath[uint64](Config{AppDataOnly: true})
		n := int(data[0])%100 + 1
		skipEvery := int(data[1]%8) + 2
		now := t0
		sent := map[uint64]int{} // pn -> size
		for i := 0; i < n; i++ {
			if i%skipEvery == skipEvery-1 {
				if err := p.SkipPacketNumber(AppData); err != nil {
					t.Fatal(err)
				}
			}
			pn := p.NextPacketNumber(AppData)
			size := 100 + i
			if err := p.OnPacketSent(AppData, SentPacket[uint64]{Number: pn, TimeSent: now, Size: size, AckEliciting: i%3 != 0, InFlight: true, Payload: pn}); err != nil {
				t.Fatal(err)
			}
			sent[pn] = size
			now = now.Add(time.Millisecond)
		}
		settled := map[uint64]string{}
		mark := func(ps []SentPacket[uint64], how string) {
			for _, sp := range ps {
				if sp.Payload != sp.Number {
					t.Fatalf("payload %d for pn %d", sp.Payload, sp.Number)
				}
				if _, ok := sent[sp.Number]; !ok {
					t.Fatalf("%s unsent pn %d", how, sp.Number)
				}
				if prev, ok := settled[sp.Number]; ok {
					t.Fatalf("pn %d %s after %s", sp.Number, how, prev)
				}
				settled[sp.Number] = how
			}
		}
		// Remaining bytes: a sequence of ACK frames, each a count then
		// (gap, length) pairs walking down from a largest.
		rest := data[2:]
		var ranges []AckRange
		for len(rest) >= 2 {
			count := int(rest[0]%4) + 1
			largest := uint64(rest[1])
			rest = rest[2:]
			ranges = ranges[:0]
			cur := largest
			ok := true
			for j := 0; j < count && ok; j++ {
				length := uint64(0)
				if len(rest) > 0 {
					length = uint64(rest[0] % 8)
					rest = rest[1:]
				}
				lo := uint64(0)
				if cur >= length {
					lo = cur - length
				}
				ranges = append(ranges, AckRange{lo, cur})
				gap := uint64(2)
				if len(rest) > 0 {
					gap += uint64(rest[0] % 4)
					rest = rest[1:]
				}
				if lo < gap {
					ok = false
				} else {
					cur = lo - gap
				}
			}
			now = now.Add(time.Duration(largest) * time.Millisecond)
			res, err := p.OnAckReceived(AppData, AckFrame{Ranges: ranges, AckDelay: time.Duration(largest) * time.Microsecond}, now)
			if err == nil {
				mark(res.Acked, "acked")
				mark(res.Lost, "lost")
			}
			if tm := p.LossTimer(); tm.Kind != TimerNone {
				r := p.OnTimeout(tm.At)
				mark(r.Lost, "lost")
			}
		}
		inFlight := 0
		outstanding := 0
		eliciting := false
		p.ForEachOutstanding(AppData, func(sp *SentPacket[uint64]) bool {
			if _, ok := settled[sp.Number]; ok {
				t.Fatalf("pn %d outstanding and %s", sp.Number, settled[sp.Number])
			}
			inFlight += sp.Size
			outstanding++
			eliciting = eliciting || sp.AckEliciting
			return true
		})
		if outstanding+len(settled) != len(sent) {
			t.Fatalf("outstanding %d + settled %d != sent %d", outstanding, len(settled), len(sent))
		}
		if inFlight != p.BytesInFlight() {
			t.Fatalf("in flight %d, outstanding sum %d", p.BytesInFlight(), inFlight)
		}
		// Padding-only packets arm no PTO (RFC 9002 §6.2.1), ack-eliciting
		// ones must.
		if eliciting && p.LossTimer().Kind == TimerNone {
			t.Fatal("ack-eliciting packets outstanding but no timer: stall")
		}
	})
}
