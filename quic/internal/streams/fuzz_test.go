package streams

import (
	"encoding/binary"
	"errors"
	"testing"
)

// srcByte is the content of every stream in the fuzzers: data at offset i
// is always srcByte(i), so duplicates and overlaps agree.
func srcByte(i uint64) byte { return byte(i*31 + i>>8 + 7) }

func srcData(off uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = srcByte(off + uint64(i))
	}
	return b
}

// fuzzReader walks a fuzz input.
type fuzzReader struct{ b []byte }

func (r *fuzzReader) u8() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *fuzzReader) u16() uint64 { return uint64(r.u8())<<8 | uint64(r.u8()) }

func (r *fuzzReader) u64() uint64 {
	var buf [8]byte
	n := copy(buf[:], r.b)
	r.b = r.b[n:]
	return binary.BigEndian.Uint64(buf[:])
}

// FuzzReassembly feeds a receiving half arbitrary STREAM and RESET_STREAM
// frames and reads. It must never panic, everything read must be the
// stream's true content in order, and memory must stay within the window.
func FuzzReassembly(f *testing.F) {
	f.Add([]byte{0, 0, 0, 10, 0, 0, 10, 10, 2, 50})
	f.Add([]byte{1, 0x10, 0, 0x80, 0, 0, 0, 0x40, 2, 255, 0, 0x0f, 0xf0, 0xff})
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 0, 99, 2, 10, 4, 7})
	f.Add([]byte{0, 0xff, 0xf0, 0xff, 1, 0xff, 0xff, 0x10})
	f.Fuzz(func(t *testing.T, in []byte) {
		const window = 64 << 10
		r := newRecvStream(NewStreamID(Client, Uni, 0), window, window)
		fr := &fuzzReader{in}
		var readOff uint64
		buf := make([]byte, 3000)
		for len(fr.b) > 0 {
			switch fr.u8() % 5 {
			case 0, 1: // STREAM
				fin := fr.u8()&1 == 1
				off := fr.u16() << 4
				n := int(fr.u16() % 4000)
				if fr.u8() == 0xff {
					off = fr.u64() // anything, including absurd offsets
				}
				r.onData(off, srcData(off, n), fin)
			case 2: // read
				k := int(fr.u8())
				n, err := r.read(buf[:k])
				for i := 0; i < n; i++ {
					if buf[i] != srcByte(readOff+uint64(i)) {
						t.Fatalf("wrong byte at %d", readOff+uint64(i))
					}
				}
				readOff += uint64(n)
				if err == nil && n == 0 && k > 0 {
					t.Fatal("no progress without error")
				}
			case 3: // RESET_STREAM
				r.onReset(uint64(fr.u8()), fr.u16()<<4)
			case 4:
				r.cancel(uint64(fr.u8()))
			}
			if blocks := r.buf.bufferedBlocks(); blocks*blockSize > window+blockSize {
				t.Fatalf("%d blocks for a %d window", blocks, window)
			}
			if r.highest > r.fc.limit || len(r.buf.ranges) > maxRanges {
				t.Fatalf("limits broken: highest %d ranges %d", r.highest, len(r.buf.ranges))
			}
			for i, s := range r.buf.ranges {
				if s.start >= s.end || s.start < r.buf.readOff || (i > 0 && r.buf.ranges[i-1].end >= s.start) {
					t.Fatalf("bad ranges %v (readOff %d)", r.buf.ranges, r.buf.readOff)
				}
			}
		}
	})
}

// FuzzManagerFrames drives a server-side Manager with arbitrary sequences
// of stream-related frames mixed with application calls and the core's
// polling, acking and losing. Only *Error values may come back, and memory
// must stay bounded.
func FuzzManagerFrames(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 0, 10, 9, 9, 10, 0})
	f.Add([]byte{0, 4, 0, 0, 0, 0x20, 1, 8, 4, 2, 0, 3, 11, 12, 13})
	f.Add([]byte{2, 0, 5, 3, 0, 7, 6, 1, 0, 0, 0, 0, 0, 0, 0, 9, 10, 11, 12})
	f.Add([]byte{0, 0xfe, 0, 0, 0, 0, 5, 0xff, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, in []byte) {
		cfg := Config{MaxStreamsBidi: 8, MaxStreamsUni: 8, StreamWindow: 8 << 10, MaxStreamWindow: 32 << 10,
			ConnWindow: 32 << 10, MaxConnWindow: 64 << 10, SendBuffer: 8 << 10}
		m := NewManager(Server, cfg)
		m.SetPeerParams(PeerParams{InitialMaxData: 4096, InitialMaxStreamDataBidiLocal: 2048,
			InitialMaxStreamDataBidiRemote: 2048, InitialMaxStreamDataUni: 2048,
			InitialMaxStreamsBidi: 4, InitialMaxStreamsUni: 4})
		fr := &fuzzReader{in}
		var sent []Frame
		buf := make([]byte, 2000)
		id := func() StreamID {
			v := fr.u8()
			if v == 0xff {
				return StreamID(fr.u64())
			}
			return StreamID(v % 48)
		}
		for len(fr.b) > 0 {
			var err error
			switch fr.u8() % 16 {
			case 0, 1:
				sid, off, n := id(), fr.u16()<<2, int(fr.u16()%3000)
				err = m.HandleStream(sid, off, srcData(off, n), fr.u8()&1 == 1)
			case 2:
				err = m.HandleResetStream(id(), uint64(fr.u8()), fr.u16())
			case 3:
				err = m.HandleStopSending(id(), uint64(fr.u8()))
			case 4:
				m.HandleMaxData(fr.u16() << 4)
			case 5:
				err = m.HandleMaxStreamData(id(), fr.u16()<<2)
			case 6:
				err = m.HandleMaxStreams(Dir(fr.u8()&1), fr.u64()>>2)
			case 7:
				m.HandleDataBlocked(fr.u16())
				err = m.HandleStreamDataBlocked(id(), fr.u16())
			case 8:
				err = m.HandleStreamsBlocked(Dir(fr.u8()&1), fr.u64()>>2)
			case 9:
				m.Read(id(), buf[:fr.u8()])
			case 10:
				if sid, e := m.OpenStream(Dir(fr.u8() & 1)); e == nil {
					m.Write(sid, buf[:fr.u16()%2000])
				}
				m.AcceptStream(Dir(fr.u8() & 1))
			case 11:
				sid := id()
				m.Write(sid, buf[:fr.u16()%2000])
				switch fr.u8() % 4 {
				case 0:
					m.CloseWrite(sid)
				case 1:
					m.CancelWrite(sid, 1)
				case 2:
					m.CancelRead(sid, 2)
				}
			case 12:
				if f, ok := m.NextControl(simEpoch, int(fr.u8())); ok {
					sent = append(sent, f)
				}
				if f, _, ok := m.NextStreamFrame(int(fr.u16() % 1500)); ok {
					if f.WireSize() > 1500 {
						t.Fatalf("oversized frame %+v", f)
					}
					sent = append(sent, f)
				}
			case 13, 14:
				if len(sent) > 0 {
					i := int(fr.u8()) % len(sent)
					if fr.u8()&1 == 0 {
						m.OnAcked(sent[i])
					} else {
						m.OnLost(sent[i])
					}
					sent = append(sent[:i], sent[i+1:]...)
				}
			case 15:
				m.PollEvent()
			}
			if err != nil {
				var pe *Error
				if !errors.As(err, &pe) {
					t.Fatalf("untyped error %v", err)
				}
				return // the connection would close here
			}
			if len(m.streams) > 16+int(m.nextLocal[0]+m.nextLocal[1]) {
				t.Fatalf("%d streams", len(m.streams))
			}
			blocks := 0
			for _, s := range m.streams {
				if s.recv != nil {
					blocks += s.recv.buf.bufferedBlocks()
				}
			}
			if uint64(blocks)*blockSize > m.connRecv.window+uint64(len(m.streams)+1)*blockSize {
				t.Fatalf("%d receive blocks", blocks)
			}
		}
	})
}
