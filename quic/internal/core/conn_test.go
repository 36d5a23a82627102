package core

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/protection"
	"github.com/alkdev/irohspoke/quic/internal/streams"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

func TestHandshake(t *testing.T) {
	l := newLink(t, 1)
	l.runUntil(l.established, 5*time.Second)
	if got := l.server.TLSState().PeerID(); got != [32]byte(testKeys(1).Public().(ed25519.PublicKey)) {
		t.Fatalf("server sees peer %x", got)
	}
	if l.client.TLSState().ALPN != "test" {
		t.Fatalf("ALPN %q", l.client.TLSState().ALPN)
	}
	if !l.client.keys[0].discarded || !l.client.keys[1].discarded {
		t.Fatal("client kept Initial/Handshake keys after confirmation")
	}
}

// transfer sends size bytes client→server on one stream and checks them.
func transfer(t *testing.T, l *link, size int, limit time.Duration) {
	t.Helper()
	id, err := l.client.Streams().Open(true)
	if err != nil {
		t.Fatal(err)
	}
	src := make([]byte, size)
	rngReader{l.rng}.Read(src)
	want := sha256.Sum256(src)
	h := sha256.New()
	written, received, fin := 0, 0, false
	buf := make([]byte, 64<<10)
	var sid streams.StreamID
	accepted := false
	l.runUntil(func() bool {
		for written < len(src) {
			n, err := l.client.Streams().Write(id, src[written:])
			written += n
			if errors.Is(err, ErrWouldBlock) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if written == len(src) {
				l.client.Streams().CloseWrite(id)
			}
		}
		if !accepted {
			sid, accepted = l.server.Streams().Accept(true)
		}
		for accepted && !fin {
			n, err := l.server.Streams().Read(sid, buf)
			h.Write(buf[:n])
			received += n
			if err == io.EOF {
				fin = true
				break
			}
			if errors.Is(err, ErrWouldBlock) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		l.drainEvents()
		return fin
	}, limit)
	if received != size || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("received %d of %d bytes, hash match %v", received, size, bytes.Equal(h.Sum(nil), want[:]))
	}
}

func TestStreamTransfer(t *testing.T) {
	l := newLink(t, 2)
	l.runUntil(l.established, 5*time.Second)
	transfer(t, l, 1<<20, 30*time.Second)
}

func TestLossyTransferWithKeyUpdates(t *testing.T) {
	l := newLink(t, 3)
	// The link: 5% loss each way, 50 ms delay, reordering (up to
	// 10 ms extra per datagram), all in virtual time.
	l.loss = 0.05
	l.delay = 50 * time.Millisecond
	l.jitter = 10 * time.Millisecond
	l.runUntil(l.established, 20*time.Second)
	l.client.cfg.KeyUpdateInterval = 200
	l.server.cfg.KeyUpdateInterval = 300
	transfer(t, l, 20<<20, 30*time.Minute)
	if l.client.stats.KeyUpdates < 2 || l.server.stats.KeyUpdates < 2 {
		t.Fatalf("key updates: client %d server %d", l.client.stats.KeyUpdates, l.server.stats.KeyUpdates)
	}
	t.Logf("virtual time %v, sent %d datagrams, dropped %d, key updates %d/%d",
		l.now.Sub(time.Unix(1_700_000_000, 0)), l.sent, l.dropped, l.client.stats.KeyUpdates, l.server.stats.KeyUpdates)
}

// TestHandshakeLossyInitial loses 30% of datagrams during the handshake and
// starts stream data as soon as the client may, so PTO probes (PINGs) in
// the Handshake space get coalesced with 1-RTT data (a PING-only packet
// once corrupted the packet after it).
func TestHandshakeLossyInitial(t *testing.T) {
	for seed := uint64(10); seed < 30; seed++ {
		l := newLink(t, seed)
		l.loss = 0.3
		l.runUntil(l.client.HandshakeComplete, 60*time.Second)
		transfer(t, l, 64<<10, 5*time.Minute)
	}
}

func TestWrongServerKey(t *testing.T) {
	l := newLink(t, 4)
	other := testKeys(9)
	l.srvCfg.TLS.PrivateKey = other
	for i := 0; i < 200 && l.client.Err() == nil; i++ {
		if !l.step() {
			break
		}
	}
	var ce *CloseError
	if !errors.As(l.client.Err(), &ce) || ce.Code != 0x100+48 {
		t.Fatalf("client error %v, want CRYPTO_ERROR unknown_ca", l.client.Err())
	}
	if l.client.HandshakeComplete() {
		t.Fatal("handshake completed with the wrong key")
	}
}

func TestApplicationClose(t *testing.T) {
	l := newLink(t, 5)
	l.runUntil(l.established, 5*time.Second)
	l.client.Close(l.now, 42, "bye")
	l.runUntil(func() bool { return l.server.Err() != nil }, time.Second)
	var ce *CloseError
	if !errors.As(l.server.Err(), &ce) || !ce.Remote || !ce.Application || ce.Code != 42 || ce.Reason != "bye" {
		t.Fatalf("server saw %v", l.server.Err())
	}
	l.runUntil(func() bool { return l.client.IsClosed() && l.server.IsClosed() }, 10*time.Second)
}

func TestIdleTimeoutAndKeepAlive(t *testing.T) {
	l := newLink(t, 6)
	l.runUntil(l.established, 5*time.Second)
	// With keep-alives the connection survives well past the idle timeout.
	start := l.now
	l.runUntil(func() bool { return l.now.Sub(start) > 2*time.Minute }, 3*time.Minute)
	if l.client.Err() != nil || l.server.Err() != nil {
		t.Fatalf("closed despite keep-alive: %v / %v", l.client.Err(), l.server.Err())
	}
	// Cut the link: both sides time out.
	l.loss = 1
	l.runUntil(func() bool { return l.client.IsClosed() && l.server.IsClosed() }, time.Minute)
	if !errors.Is(l.client.Err(), ErrIdleTimeout) {
		t.Fatalf("client error %v", l.client.Err())
	}
}

func TestDatagrams(t *testing.T) {
	l := newLink(t, 7)
	l.runUntil(l.established, 5*time.Second)
	if err := l.client.Datagrams().Send([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	var got []byte
	l.runUntil(func() bool {
		d, ok := l.server.Datagrams().Recv()
		got = d
		return ok
	}, time.Second)
	if string(got) != "hello" {
		t.Fatalf("got %q", got)
	}
}

// TestRetry has the "endpoint" answer the first Initial with a Retry, as an
// iroh hub behind an address-validating filter may.
func TestRetry(t *testing.T) {
	l := newLink(t, 8)
	retrySCID := []byte{9, 9, 9, 9, 9, 9, 9, 9}
	var odcid []byte
	retried := false
	l.drop = func(toServer bool, d []byte) bool {
		if !toServer || retried {
			return false
		}
		h, err := wire.ParseHeader(d, LocalCIDLen)
		if err != nil || h.Type != wire.PacketInitial {
			return false
		}
		retried = true
		odcid = append([]byte(nil), h.DCID...)
		pkt, err := wire.AppendRetry(nil, wire.Version1, h.SCID, retrySCID, []byte("token"))
		if err != nil {
			t.Fatal(err)
		}
		tag := protection.RetryIntegrityTag(odcid, pkt)
		pkt = append(pkt, tag[:]...)
		l.client.HandleDatagram(l.now, l.sAddr, 0, pkt)
		return true
	}
	l.newServer = func(h wire.Header) (*Conn, error) {
		if string(h.DCID) != string(retrySCID) || string(h.Token) != "token" {
			t.Fatalf("second Initial: DCID %x token %q", h.DCID, h.Token)
		}
		return NewServerRetry(l.srvCfg, l.now, l.cAddr, odcid, retrySCID, h.SCID, retrySCID)
	}
	l.runUntil(l.established, 5*time.Second)
	if !l.client.initial.gotRetry {
		t.Fatal("client never saw the Retry")
	}
}

// TestStatelessReset: a datagram ending in the peer's reset token kills the
// connection at once.
func TestStatelessReset(t *testing.T) {
	l := newLink(t, 9)
	l.runUntil(l.established, 5*time.Second)
	tok := l.server.paths[0].local.active[0].token
	d := make([]byte, 40)
	d[0] = 0x40
	copy(d[len(d)-16:], tok[:])
	l.client.HandleDatagram(l.now, l.sAddr, 0, d)
	if !errors.Is(l.client.Err(), ErrStatelessReset) || !l.client.IsClosed() {
		t.Fatalf("client err %v closed %v", l.client.Err(), l.client.IsClosed())
	}
}

// TestVersionNegotiation: a VN without our version ends the dial.
func TestVersionNegotiation(t *testing.T) {
	l := newLink(t, 10)
	n, _ := l.client.PollTransmit(l.now, l.buf)
	h, err := wire.ParseHeader(l.buf[:n], LocalCIDLen)
	if err != nil {
		t.Fatal(err)
	}
	vn, err := wire.AppendVersionNegotiation(nil, h.SCID, h.DCID, []uint32{0xff00001d}, 0x40)
	if err != nil {
		t.Fatal(err)
	}
	l.client.HandleDatagram(l.now, l.sAddr, 0, vn)
	if !errors.Is(l.client.Err(), ErrVersionNegotiation) {
		t.Fatalf("client err %v", l.client.Err())
	}
}

// TestPingProbeCoalescedWith1RTT builds the datagram that once went wrong
// against iroh: a PING-only Handshake PTO probe followed by a 1-RTT packet
// with stream data. The probe needs header-protection padding, which must
// not spill into the next packet.
func TestPingProbeCoalescedWith1RTT(t *testing.T) {
	l := newLink(t, 11)
	l.runUntil(l.client.HandshakeComplete, 5*time.Second)
	c := l.client
	l.flush() // the client's Finished goes out
	l.queue = nil
	if c.confirmed || c.keys[1].discarded {
		t.Fatal("client already confirmed; cannot probe the Handshake space")
	}
	// Pretend the Finished was acknowledged as data, so the PTO probe has
	// no CRYPTO frame to resend and falls back to a PING.
	cs := &c.crypto[1].send
	cs.onAcked(0, uint64(len(cs.data)))
	id, err := c.Streams().Open(true)
	if err != nil {
		t.Fatal(err)
	}
	c.Streams().Write(id, bytes.Repeat([]byte("x"), 500))
	at, _ := c.Timeout()
	c.HandleTimeout(at.Add(time.Second))
	if c.paths[0].rec.ProbesPending(levelHandshake.space()) == 0 {
		t.Fatal("no Handshake probe pending")
	}
	// In steady state the scratch buffer is large, so coalesced payloads
	// sit back to back in one array.
	c.bufs.payload = make([]byte, 0, 4096)
	n, _ := c.PollTransmit(at.Add(time.Second), l.buf) // panics on a malformed payload
	if n == 0 {
		t.Fatal("nothing sent")
	}
}

// TestCheckPayloads: with Config.CheckPayloads (every link sets it) a
// malformed payload panics instead of being sealed; without, it is sealed.
func TestCheckPayloads(t *testing.T) {
	l := newLink(t, 12)
	garbage := []byte{0x1f, 0xff, 0xff, 0xff}
	if n := len(sealUnchecked(l.client, &planned{path: l.client.paths[0], level: levelInitial, pnLen: 4, payload: garbage})); n == 0 {
		t.Fatal("nothing sealed without the check")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a malformed payload was sealed")
		}
	}()
	l.client.sealPacket(nil, &planned{path: l.client.paths[0], level: levelInitial, pnLen: 4, payload: garbage})
}
