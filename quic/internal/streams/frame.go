package streams

import "github.com/alkdev/irohspoke/quic/internal/wire"

// FrameKind names the RFC 9000 frames this package produces.
type FrameKind uint8

const (
	FrameStream            FrameKind = iota + 1 // STREAM (0x08–0x0f)
	FrameResetStream                            // RESET_STREAM (0x04)
	FrameStopSending                            // STOP_SENDING (0x05)
	FrameMaxData                                // MAX_DATA (0x10)
	FrameMaxStreamData                          // MAX_STREAM_DATA (0x11)
	FrameMaxStreams                             // MAX_STREAMS (0x12 bidi, 0x13 uni)
	FrameDataBlocked                            // DATA_BLOCKED (0x14)
	FrameStreamDataBlocked                      // STREAM_DATA_BLOCKED (0x15)
	FrameStreamsBlocked                         // STREAMS_BLOCKED (0x16 bidi, 0x17 uni)
)

var frameKindNames = [...]string{
	FrameStream:            "STREAM",
	FrameResetStream:       "RESET_STREAM",
	FrameStopSending:       "STOP_SENDING",
	FrameMaxData:           "MAX_DATA",
	FrameMaxStreamData:     "MAX_STREAM_DATA",
	FrameMaxStreams:        "MAX_STREAMS",
	FrameDataBlocked:       "DATA_BLOCKED",
	FrameStreamDataBlocked: "STREAM_DATA_BLOCKED",
	FrameStreamsBlocked:    "STREAMS_BLOCKED",
}

func (k FrameKind) String() string {
	if int(k) < len(frameKindNames) && frameKindNames[k] != "" {
		return frameKindNames[k]
	}
	return "UNKNOWN"
}

// Frame is one frame this package asked the core to send, as plain values.
// The core encodes it and keeps the Frame in its record of the packet, then
// hands it back to Manager.OnAcked or Manager.OnLost. The record carries
// no payload: stream data is re-read from the send buffer on loss.
//
// Field use by kind:
//
//	STREAM               ID, Offset, Length, Fin
//	RESET_STREAM         ID, Code, Value (final size)
//	STOP_SENDING         ID, Code
//	MAX_DATA             Value
//	MAX_STREAM_DATA      ID, Value
//	MAX_STREAMS          Dir, Value
//	DATA_BLOCKED         Value
//	STREAM_DATA_BLOCKED  ID, Value
//	STREAMS_BLOCKED      Dir, Value
type Frame struct {
	Kind   FrameKind
	Dir    Dir
	Fin    bool
	ID     StreamID
	Offset uint64
	Length uint64
	Value  uint64
	Code   uint64
}

// WireSize is the encoded size of the frame in bytes. STREAM frames are
// counted with an explicit length field and the offset field omitted at
// offset zero.
func (f Frame) WireSize() int {
	switch f.Kind {
	case FrameStream:
		n := 1 + wire.VarintLen(uint64(f.ID)) + wire.VarintLen(f.Length) + int(f.Length)
		if f.Offset > 0 {
			n += wire.VarintLen(f.Offset)
		}
		return n
	case FrameResetStream:
		return 1 + wire.VarintLen(uint64(f.ID)) + wire.VarintLen(f.Code) + wire.VarintLen(f.Value)
	case FrameStopSending:
		return 1 + wire.VarintLen(uint64(f.ID)) + wire.VarintLen(f.Code)
	case FrameMaxStreamData, FrameStreamDataBlocked:
		return 1 + wire.VarintLen(uint64(f.ID)) + wire.VarintLen(f.Value)
	case FrameMaxData, FrameMaxStreams, FrameDataBlocked, FrameStreamsBlocked:
		return 1 + wire.VarintLen(f.Value)
	}
	return 0
}

// streamDataRoom is how many data bytes fit in a STREAM frame of at most
// maxSize bytes for stream id at offset off; -1 if not even an empty frame
// fits.
func streamDataRoom(maxSize int, id StreamID, off uint64) int {
	room := maxSize - 1 - wire.VarintLen(uint64(id))
	if off > 0 {
		room -= wire.VarintLen(off)
	}
	if room < 1 {
		return -1
	}
	return room - wire.VarintLen(uint64(room))
}
