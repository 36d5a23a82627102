// Package congestion holds QUIC congestion controllers (RFC 9002 §7 NewReno,
// RFC 9438 CUBIC) and a pacer (RFC 9002 §7.7).
//
// Everything here is sans-IO: callers pass the current time in, nothing reads
// a clock, starts goroutines or keeps timers. One controller and one pacer
// belong to one network path.
package congestion

import "time"

// Byte sizes from RFC 9000 §14 and RFC 9002 §7.2.
const (
	// InitialMaxDatagramSize is the datagram size every QUIC path starts
	// with, before path MTU discovery raises it.
	InitialMaxDatagramSize = 1200

	// minimumWindowPackets is kMinimumWindow expressed in datagrams.
	minimumWindowPackets = 2

	// initialWindowCapBytes is the 14720-byte cap of kInitialWindow.
	initialWindowCapBytes = 14720
)

// InitialWindow returns kInitialWindow for a datagram size:
// min(10*size, max(2*size, 14720)).
func InitialWindow(maxDatagramSize int) int {
	return min(10*maxDatagramSize, max(2*maxDatagramSize, initialWindowCapBytes))
}

// MinimumWindow returns kMinimumWindow (two datagrams).
func MinimumWindow(maxDatagramSize int) int {
	return minimumWindowPackets * maxDatagramSize
}

// Ack describes one newly acknowledged in-flight packet, as the controller
// needs it.
type Ack struct {
	Now      time.Time // when the ACK was processed
	SentTime time.Time // when the acknowledged packet was sent
	Bytes    int       // size of the acknowledged packet

	// SmoothedRTT is the path's current smoothed RTT; CUBIC's curve and its
	// Reno-friendly estimate are both measured in RTTs.
	SmoothedRTT time.Duration

	// AppLimited reports that the sender was not using its window, in which
	// case the window must not grow (RFC 9002 §7.8).
	AppLimited bool
}

// Controller is a per-path congestion controller. Sizes are bytes.
type Controller interface {
	// OnPacketSent records an in-flight packet of the given size.
	OnPacketSent(now time.Time, bytes int)
	// OnAck grows the window for one newly acknowledged in-flight packet.
	OnAck(a Ack)
	// OnCongestionEvent reacts to an ECN-CE mark, an unambiguous sign of
	// congestion. sentTime is the send time of the newest packet that was
	// CE-marked; events for packets sent before the current recovery
	// period began are ignored, so the window shrinks at most once per
	// round trip.
	OnCongestionEvent(now, sentTime time.Time)
	// OnPacketsLost is OnCongestionEvent for a loss, where sentTime is the
	// send time of the newest packet lost. A controller may reduce less
	// when the loss does not look like congestion (see backlog.go).
	OnPacketsLost(now, sentTime time.Time)
	// OnRTTSample feeds each RTT sample of the path.
	OnRTTSample(s RTTSample)
	// OnSpuriousCongestion undoes the last reduction: every loss behind
	// it was acknowledged after all (reordering, not congestion;
	// RFC 9438 §4.9). Nothing happens after persistent congestion.
	OnSpuriousCongestion()
	// OnPersistentCongestion collapses the window to the minimum
	// (RFC 9002 §7.6.2).
	OnPersistentCongestion(now time.Time)
	// SetMaxDatagramSize updates the datagram size after PMTU discovery.
	SetMaxDatagramSize(size int)

	// Window is the congestion window in bytes.
	Window() int
	// SlowStartThreshold is ssthresh in bytes (math.MaxInt before the first
	// congestion event).
	SlowStartThreshold() int
	// InSlowStart reports whether the window is below ssthresh.
	InSlowStart() bool
	// InRecovery reports whether a packet sent at sentTime belongs to the
	// current recovery period.
	InRecovery(sentTime time.Time) bool
	// CanSend reports whether another packet may be sent with bytesInFlight
	// bytes outstanding.
	CanSend(bytesInFlight int) bool
}

// recoveryPeriod tracks RFC 9002 §7.3.2's recovery start time, shared by
// both controllers.
type recoveryPeriod struct {
	start time.Time
	set   bool
}

func (r *recoveryPeriod) contains(sentTime time.Time) bool {
	return r.set && !sentTime.After(r.start)
}

func (r *recoveryPeriod) enter(now time.Time) {
	r.start, r.set = now, true
}

func (r *recoveryPeriod) reset() {
	*r = recoveryPeriod{}
}
