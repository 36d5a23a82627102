package core

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/recovery"
)

// How FuzzServerDatagram's input reaches the server.
const (
	dgramRaw          = iota // as is, from the client's address
	dgramSpoofed             // as is, from an attacker's address
	dgramFlippedFirst        // the client's first Initial XOR the input
	dgramSealedInit          // the input as the payload of an authentic client Initial
	dgramThenSilence         // as is, from the client, which is then cut off for a while
	numDgramModes
)

// attackerAddr receives whatever the server answers a spoofed datagram;
// nothing comes back from it.
var attackerAddr = UDPAddr(netip.MustParseAddrPort("198.51.100.1:9"))

// serverDatagramRun is one FuzzServerDatagram case: a server that has just
// accepted the client's first Initial gets the fuzzer's datagram, then the
// handshake carries on.
type serverDatagramRun struct {
	t              *testing.T
	l              *link
	first          []byte // the client's first datagram
	toServer       int    // bytes the client sent
	fromServer     int    // bytes the server sent
	injected       int    // bytes of the fuzzer's datagram charged to the client's address
	injectedFromAt int    // bytes of the fuzzer's datagram from the attacker
}

// checkServerDatagram: the server never sends more than three times what it
// received before the client's address is validated (to the client, and
// to an attacker), and the datagram either does nothing, closes the
// connection with a transport error, or leaves it usable: the handshake
// completes and data flows.
func checkServerDatagram(t *testing.T, d []byte, mode byte) {
	r := &serverDatagramRun{t: t, l: newLink(t, 43)}
	l := r.l
	l.unreachable[attackerAddr] = true
	var silentUntil time.Time
	l.drop = func(toServer bool, b []byte) bool {
		if toServer && l.now.Before(silentUntil) {
			return true // lost: it never counts as received
		}
		if toServer {
			if r.first == nil {
				r.first = append([]byte(nil), b...)
			}
			r.toServer += len(b)
		} else {
			r.fromServer += len(b)
		}
		return false
	}
	l.flush()
	l.step() // the server is created from the client's Initial
	if l.server == nil {
		t.Fatal("no server")
	}
	mode %= numDgramModes
	if mode == dgramThenSilence {
		// The server's PTOs must stop at three times what it got.
		silentUntil = l.now.Add(5 * time.Second)
	}
	r.inject(d, mode)
	r.handshake()
}

func (r *serverDatagramRun) inject(d []byte, mode byte) {
	l := r.l
	from := l.cAddr
	switch mode {
	case dgramSpoofed:
		from = attackerAddr
	case dgramFlippedFirst:
		x := append([]byte(nil), r.first...)
		for i := range min(len(x), len(d)) {
			x[i] ^= d[i]
		}
		d = x
	case dgramSealedInit:
		d = r.sealedInitial(d)
	}
	if from == attackerAddr {
		r.injectedFromAt = len(d)
	} else {
		r.injected = len(d)
	}
	l.server.HandleDatagram(l.now, from, 0, d)
}

// sealedInitial wraps payload in an Initial the client could have sent:
// Initial keys are public, so anyone can forge one.
func (r *serverDatagramRun) sealedInitial(payload []byte) []byte {
	c := r.l.client
	p := append([]byte(nil), payload...)
	for len(p) < 4 {
		p = append(p, 0) // PADDING: room for the header protection sample
	}
	pn := c.paths[0].rec.NextPacketNumber(recovery.Initial)
	c.paths[0].rec.SkipPacketNumber(recovery.Initial)
	return sealUnchecked(c, &planned{path: c.paths[0], level: levelInitial, pn: pn, pnLen: 4, payload: p})
}

// handshake runs the link until the connection is up or the server closed,
// checking the amplification limit at every step, then moves data.
func (r *serverDatagramRun) handshake() {
	l := r.l
	deadline := l.now.Add(20 * time.Second)
	for !l.established() && l.server.Err() == nil {
		r.checkAmplification()
		if !l.step() || l.now.After(deadline) {
			r.t.Fatalf("handshake neither completed nor failed (client %v, server %v)", l.client.Err(), l.server.Err())
		}
	}
	r.checkAmplification()
	if err := l.server.Err(); err != nil {
		var ce *CloseError
		if !asCloseError(err, &ce) || ce.Application {
			r.t.Fatalf("server closed with %v, want a transport CloseError", err)
		}
		return
	}
	transfer(r.t, l, 10<<10, 10*time.Second)
	if err := l.client.Err(); err != nil && !errors.Is(err, ErrIdleTimeout) {
		r.t.Fatalf("client failed after the handshake: %v", err)
	}
}

// checkAmplification applies RFC 9000 §8.1 while the client's address is
// unvalidated. What is still queued towards the server has not arrived.
func (r *serverDatagramRun) checkAmplification() {
	l := r.l
	if l.server.paths[0].validated {
		return
	}
	received := r.toServer + r.injected
	for _, f := range l.queue {
		if f.toServer {
			received -= len(f.data)
		}
	}
	toAttacker := l.bytesVia[attackerAddr]
	if sent := r.fromServer - toAttacker; sent > 3*received {
		r.t.Fatalf("unvalidated server sent %d bytes after receiving %d", sent, received)
	}
	if toAttacker > 3*r.injectedFromAt {
		r.t.Fatalf("server sent %d bytes to a spoofed source that sent %d", toAttacker, r.injectedFromAt)
	}
}
