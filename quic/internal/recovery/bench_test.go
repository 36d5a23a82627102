package recovery

import (
	"testing"
	"time"
)

// BenchmarkSendAndAck records one packet and processes an ACK for every
// second packet, the steady state of a bulk transfer.
func BenchmarkSendAndAck(b *testing.B) {
	p := NewPath[int](Config{AppDataOnly: true})
	ranges := make([]AckRange, 1)
	now := t0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pn := uint64(i)
		now = now.Add(10 * time.Microsecond)
		if err := p.OnPacketSent(AppData, SentPacket[int]{Number: pn, TimeSent: now, Size: 1200, AckEliciting: true, Payload: i}); err != nil {
			b.Fatal(err)
		}
		// The peer acknowledges with a lag of 32 packets, two at a time.
		if pn >= 33 && pn%2 == 1 {
			ranges[0] = AckRange{pn - 33, pn - 32}
			if _, err := p.OnAckReceived(AppData, AckFrame{Ranges: ranges}, now); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkReceiveAndAck records received packets and builds an ACK frame
// every second packet.
func BenchmarkReceiveAndAck(b *testing.B) {
	tr := NewAckTracker(0, 0, 0, false)
	buf := make([]AckRange, 0, DefaultMaxAckRanges)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Every 50th packet is missing, so a few ranges exist.
		if i%50 == 49 {
			continue
		}
		tr.OnPacketReceived(uint64(i), true, ECNECT0, t0)
		if tr.ShouldSendAck(t0) {
			buf = tr.AppendRanges(buf[:0])
			tr.OnAckSent()
		}
	}
}
