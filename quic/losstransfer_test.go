package quic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
)

// lossRun is one bulk transfer over a lossy link: size bytes from the
// client to the server on one stream, timed from the first write until
// the server has read the last byte.
type lossRun struct {
	size  int
	loss  float64
	delay time.Duration // one way
	seed  uint64
	// trace, when set, logs the sender's window and loss this often.
	trace time.Duration
}

// lossNet gives each transfer a fresh server and client socket on one
// lossy network: in-memory ports in virtual time (memNet), or UDP sockets
// in two network namespaces (netnsPair).
type lossNet interface {
	oursPair() (server, client Transport)
	goPair() (server, client net.PacketConn)
}

// lossStack is one implementation at both ends of a lossRun.
type lossStack struct {
	name     string
	transfer func(t testing.TB, r lossRun, n lossNet) (time.Duration, error)
}

var lossStacks = []lossStack{
	{"ours", oursTransfer},
	{"quic-go", quicGoTransfer},
}

// lossHandshakeTimeout leaves room for a handshake at 30 % loss.
const lossHandshakeTimeout = time.Minute

// errShortStream: the server read less than was sent.
var errShortStream = errors.New("losssim: stream ended early")

// drain reads r to its end and reports when it got there.
func drain(r io.Reader, size int, done chan<- time.Time, errs chan<- error) {
	n, err := io.Copy(io.Discard, r)
	if err == nil && n != int64(size) {
		err = errShortStream
	}
	if err != nil {
		errs <- err
		return
	}
	done <- time.Now()
}

// send writes size bytes to w and closes it.
func send(w io.WriteCloser, size int) error {
	buf := make([]byte, 64<<10)
	for sent := 0; sent < size; sent += len(buf) {
		if _, err := w.Write(buf[:min(len(buf), size-sent)]); err != nil {
			return err
		}
	}
	return w.Close()
}

func waitDone(start time.Time, done <-chan time.Time, errs <-chan error) (time.Duration, error) {
	select {
	case at := <-done:
		return at.Sub(start), nil
	case err := <-errs:
		return 0, err
	}
}

// traceSender logs stats() every r.trace until stop closes.
func traceSender(t testing.TB, r lossRun, stop <-chan struct{}, stats func() string) {
	if r.trace == 0 {
		return
	}
	start := time.Now()
	go func() {
		tick := time.NewTicker(r.trace)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				t.Logf("%6.1fs %s", time.Since(start).Seconds(), stats())
			case <-stop:
				return
			}
		}
	}()
}

func oursTransfer(t testing.TB, r lossRun, n lossNet) (time.Duration, error) {
	st, ct := n.oursPair()
	sep, err := NewEndpoint(st, &Config{SecretKey: testKey(t, 40), ALPNs: []string{testALPN}, HandshakeTimeout: lossHandshakeTimeout})
	if err != nil {
		return 0, err
	}
	defer sep.Close()
	cep, err := NewEndpoint(ct, &Config{SecretKey: testKey(t, 41), HandshakeTimeout: lossHandshakeTimeout})
	if err != nil {
		return 0, err
	}
	defer cep.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	done, errs := make(chan time.Time, 1), make(chan error, 2)
	go func() {
		c, err := sep.Accept(ctx)
		if err != nil {
			errs <- err
			return
		}
		s, err := c.AcceptStream(ctx)
		if err != nil {
			errs <- err
			return
		}
		drain(s, r.size, done, errs)
	}()
	ap, err := netip.ParseAddrPort(st.LocalAddr().String())
	if err != nil {
		return 0, err
	}
	c, err := cep.Dial(ctx, UDPAddr(ap), sep.ID(), testALPN)
	if err != nil {
		return 0, err
	}
	defer c.Close(0, "")
	stats := func() string {
		st := c.Stats()
		return fmt.Sprintf("cwnd %6d rtt %v lost %d sent %d mtu %d", st.CongestionWindow, st.RTT, st.PacketsLost, st.PacketsSent, st.CurrentMTU)
	}
	return timedSend(t, r, stats, func() (io.WriteCloser, error) { return c.OpenStream(ctx) }, done, errs)
}

func quicGoTransfer(t testing.TB, r lossRun, n lossNet) (time.Duration, error) {
	sc, cc := n.goPair()
	defer sc.Close()
	defer cc.Close()
	sk, ck := testKey(t, 42), testKey(t, 43)
	cfg := goQUICConfig()
	cfg.HandshakeIdleTimeout = lossHandshakeTimeout
	ln, err := quicgo.Listen(sc, goTLSConfig(t, sk.PrivateKey(), ck.Public().PublicKey()), cfg)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	done, errs := make(chan time.Time, 1), make(chan error, 2)
	accepted := make(chan *quicgo.Conn, 1)
	defer func() {
		ln.Close()
		select {
		case c := <-accepted:
			c.CloseWithError(0, "")
		default:
		}
	}()
	go func() {
		c, err := ln.Accept(ctx)
		if err != nil {
			errs <- err
			return
		}
		accepted <- c
		s, err := c.AcceptStream(ctx)
		if err != nil {
			errs <- err
			return
		}
		drain(s, r.size, done, errs)
	}()
	c, err := quicgo.Dial(ctx, cc, sc.LocalAddr(), goTLSConfig(t, ck.PrivateKey(), sk.Public().PublicKey()), cfg)
	if err != nil {
		return 0, err
	}
	defer c.CloseWithError(0, "")
	stats := func() string {
		st := c.ConnectionStats()
		return fmt.Sprintf("cwnd %6d rtt %v lost %d sent %d", st.CongestionWindow, st.SmoothedRTT, st.PacketsLost, st.PacketsSent)
	}
	return timedSend(t, r, stats, func() (io.WriteCloser, error) { return c.OpenStreamSync(ctx) }, done, errs)
}

// timedSend opens the client's stream, sends r.size bytes and waits for
// the server to have read them, tracing the sender if r asks for it.
func timedSend(t testing.TB, r lossRun, stats func() string, open func() (io.WriteCloser, error), done <-chan time.Time, errs <-chan error) (time.Duration, error) {
	stop := make(chan struct{})
	defer close(stop)
	traceSender(t, r, stop, stats)
	start := time.Now()
	s, err := open()
	if err != nil {
		return 0, err
	}
	if err := send(s, r.size); err != nil {
		return 0, err
	}
	return waitDone(start, done, errs)
}
