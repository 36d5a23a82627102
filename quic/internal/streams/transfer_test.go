package streams

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"math/rand/v2"
	"testing"
)

// uploader streams size pseudo-random bytes and then expects the peer to
// answer with their SHA-256.
type uploader struct {
	id       StreamID
	size     int
	written  int
	gen      *rand.ChaCha8
	pending  []byte
	sent     hash.Hash
	reply    []byte
	verified bool
}

func (u *uploader) pump(t *testing.T, m *Manager) {
	for {
		if len(u.pending) == 0 {
			if u.written == u.size {
				if err := m.CloseWrite(u.id); err != nil && !errors.Is(err, ErrWriteClosed) {
					t.Fatalf("close %v: %v", u.id, err)
				}
				return
			}
			n := min(8192, u.size-u.written)
			u.pending = make([]byte, n)
			u.gen.Read(u.pending)
			u.sent.Write(u.pending)
			u.written += n
		}
		n, err := m.Write(u.id, u.pending)
		u.pending = u.pending[n:]
		if errors.Is(err, ErrWouldBlock) {
			return
		}
		if err != nil {
			t.Fatalf("write %v: %v", u.id, err)
		}
	}
}

func checkMemory(t *testing.T, m *Manager) {
	t.Helper()
	total := 0
	for id, s := range m.streams {
		if s.send != nil && uint64(s.send.q.len()) > m.cfg.SendBuffer {
			t.Fatalf("%v: send buffer %d > %d", id, s.send.q.len(), m.cfg.SendBuffer)
		}
		if s.recv != nil {
			b := s.recv.buf.bufferedBlocks() * blockSize
			if uint64(b) > s.recv.fc.window+blockSize {
				t.Fatalf("%v: %d bytes of receive blocks for window %d", id, b, s.recv.fc.window)
			}
			if s.recv.fc.window > m.cfg.MaxStreamWindow {
				t.Fatalf("%v: window %d above cap", id, s.recv.fc.window)
			}
			total += b
		}
	}
	if limit := m.connRecv.window + uint64(len(m.streams))*blockSize; uint64(total) > limit {
		t.Fatalf("receive memory %d > %d", total, limit)
	}
}

func smallWindows() Config {
	return Config{
		StreamWindow:    16 << 10,
		MaxStreamWindow: 64 << 10,
		ConnWindow:      128 << 10,
		MaxConnWindow:   512 << 10,
		SendBuffer:      32 << 10,
	}
}

// runUploads moves totalBytes over nStreams bidirectional streams from
// client to server; the server replies with each stream's SHA-256.
func runUploads(t *testing.T, l *simLink, nStreams, totalBytes int, seed uint64) {
	client, server := l.ends[0].m, l.ends[1].m
	rng := rand.New(rand.NewPCG(seed, 1))
	ups := map[StreamID]*uploader{}
	var toOpen []*uploader
	remaining := totalBytes
	for i := 0; i < nStreams; i++ {
		size := remaining / (nStreams - i)
		if i < nStreams-1 {
			size = size/2 + rng.IntN(size+1)
		}
		remaining -= size
		var key [32]byte
		key[0], key[1] = byte(i), byte(i>>8)
		toOpen = append(toOpen, &uploader{size: size, gen: rand.NewChaCha8(key), sent: sha256.New()})
	}
	hashes := map[StreamID]hash.Hash{}
	buf := make([]byte, 5000)
	verified := 0
	open := func() {
		for len(toOpen) > 0 {
			id, err := client.OpenStream(Bidi)
			if errors.Is(err, ErrStreamLimit) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			u := toOpen[0]
			toOpen = toOpen[1:]
			u.id = id
			ups[id] = u
			u.pump(t, client)
		}
	}
	open()
	for tick := 0; verified < nStreams; tick++ {
		if tick > 200_000 {
			t.Fatalf("stalled: %d/%d streams verified, %d still to open", verified, nStreams, len(toOpen))
		}
		l.step()
		for {
			ev, ok := server.PollEvent()
			if !ok {
				break
			}
			switch ev.Kind {
			case EventOpened:
				id, ok := server.AcceptStream(Bidi)
				if !ok || id != ev.ID {
					t.Fatalf("accept %v, %v; event for %v", id, ok, ev.ID)
				}
				hashes[id] = sha256.New()
			case EventReadable:
				h := hashes[ev.ID]
				for {
					n, err := server.Read(ev.ID, buf)
					h.Write(buf[:n])
					if err == io.EOF {
						server.Write(ev.ID, h.Sum(nil))
						server.CloseWrite(ev.ID)
						break
					}
					if errors.Is(err, ErrWouldBlock) {
						break
					}
					if err != nil {
						t.Fatalf("server read %v: %v", ev.ID, err)
					}
				}
			}
		}
		for {
			ev, ok := client.PollEvent()
			if !ok {
				break
			}
			switch ev.Kind {
			case EventWritable:
				ups[ev.ID].pump(t, client)
			case EventStreamsAvailable:
				open()
			case EventReadable:
				u := ups[ev.ID]
				for {
					n, err := client.Read(ev.ID, buf)
					u.reply = append(u.reply, buf[:n]...)
					if err == io.EOF {
						if !bytes.Equal(u.reply, u.sent.Sum(nil)) {
							t.Fatalf("%v: digest mismatch", ev.ID)
						}
						u.verified = true
						verified++
						break
					}
					if errors.Is(err, ErrWouldBlock) {
						break
					}
					if err != nil {
						t.Fatalf("client read %v: %v", ev.ID, err)
					}
				}
			}
		}
		if tick%16 == 0 {
			checkMemory(t, client)
			checkMemory(t, server)
		}
	}
	l.settle(10_000)
	l.checkConnAccounting()
	if client.NumStreams() != 0 || server.NumStreams() != 0 {
		t.Fatalf("leaked streams: client %d, server %d", client.NumStreams(), server.NumStreams())
	}
}

func TestTransfer20MiB100Streams(t *testing.T) {
	if testing.Short() {
		t.Skip("long transfer")
	}
	l := newSimLink(t, 42, smallWindows(), smallWindows())
	runUploads(t, l, 100, 20<<20, 42)
	t.Logf("%d ticks, %d packets, %d lost, frames %v", l.tick, l.packets, l.lost, l.kinds)
	for _, k := range []FrameKind{FrameStreamDataBlocked, FrameDataBlocked, FrameMaxStreamData, FrameMaxData} {
		if l.kinds[k] == 0 {
			t.Errorf("no %v frames: flow control never engaged", k)
		}
	}
}

// TestTransferSeeds repeats a smaller transfer under heavier loss and
// several seeds.
func TestTransferSeeds(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		l := newSimLink(t, seed, smallWindows(), smallWindows())
		l.loss = 0.12
		runUploads(t, l, 20, 2<<20, seed)
	}
}
