package relay

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/relay/internal/websocket"
	"github.com/alkdev/irohspoke/relay/relayproto"
)

// Reasons a server closes a client.
var (
	errHandshake   = errors.New("relay: handshake failed")
	errPingTimeout = errors.New("relay: ping timeout")
)

// serverConn is one authenticated client connection on the server.
type serverConn struct {
	s       *Server
	ws      *websocket.Conn
	id      endpointID
	version relayproto.Version
	remote  string
	log     logAttrs

	dataq   chan *[]byte // encoded datagram frames for this client
	ctrlq   chan *[]byte // EndpointGone / Status frames
	pongq   chan [relayproto.PingDataLen]byte
	wsPongq chan []byte // WebSocket ping payloads to answer

	bucket *tokenBucket // per-client read limit; nil if none

	done      chan struct{}
	closeOnce sync.Once
	graceful  atomic.Pointer[relayproto.Restarting]

	lastRecv atomic.Int64 // unix nanos of the last frame received
	pings    pingTracker
	recorded map[endpointID]struct{} // reader-local cache of recordSent
	limited  bool                    // reader-local: rate-limit status sent
}

type logAttrs []any

// maxLoginMessage bounds messages before the login completes; the only
// one expected, ClientAuth, is 98 bytes.
const maxLoginMessage = 1 << 10

// handleConn runs the login and then the connection until it ends.
func (s *Server) handleConn(ws *websocket.Conn, v relayproto.Version, remote string,
	km *relayproto.KeyMaterialAuth, tlsState *tls.ConnectionState, token string) {
	// Until it has logged in, a socket may hold at most a ClientAuth's
	// worth of buffer, for at most EstablishTimeout.
	ws.MaxMessageSize = maxLoginMessage
	deadline := time.Now().Add(s.cfg.EstablishTimeout)
	_ = ws.SetReadDeadline(deadline)
	_ = ws.SetWriteDeadline(deadline)
	var bucket *tokenBucket
	if s.cfg.RateLimit > 0 {
		bucket = newTokenBucket(s.cfg.RateLimit, s.cfg.RateBurst, time.Now())
		ws.OnReadFrame = func(n int) { // the login counts too
			if wait := bucket.take(n, time.Now()); wait > 0 {
				time.Sleep(min(wait, time.Until(deadline)))
			}
		}
	}
	id, err := s.login(ws, remote, km, tlsState, token)
	if err != nil {
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			s.metrics.LoginTimeouts.Add(1)
		}
		_ = ws.Close(websocket.ClosePolicyViolation, "")
		return
	}
	ws.MaxMessageSize = relayproto.MaxFrameSize
	_ = ws.SetReadDeadline(time.Time{})
	s.serveAuthed(ws, id, v, remote, bucket)
}

// serveAuthed runs a logged-in connection until it ends.
func (s *Server) serveAuthed(ws *websocket.Conn, id endpointID, v relayproto.Version, remote string, bucket *tokenBucket) {
	c := &serverConn{
		s: s, ws: ws, id: id, version: v, remote: remote,
		log:      logAttrs{"remote", remote, "endpoint", identity.EndpointID(id).Short(), "version", v.String()},
		dataq:    make(chan *[]byte, s.cfg.QueueDepth),
		ctrlq:    make(chan *[]byte, 64),
		pongq:    make(chan [relayproto.PingDataLen]byte, 8),
		wsPongq:  make(chan []byte, 2),
		bucket:   bucket,
		done:     make(chan struct{}),
		recorded: make(map[endpointID]struct{}),
	}
	c.lastRecv.Store(time.Now().UnixNano())
	if !s.track(c) {
		_ = ws.Close(websocket.CloseGoingAway, "relay shutting down")
		return
	}
	defer s.untrack(c)
	s.run(c)
}

// login authenticates the client (keying material or challenge) and checks
// the token, answering ServerDeniesAuth on failure. ServerConfirmsAuth is
// sent by run, once the client is routable.
func (s *Server) login(ws *websocket.Conn, remote string, km *relayproto.KeyMaterialAuth,
	tlsState *tls.ConnectionState, token string) (endpointID, error) {
	var id endpointID
	authed := false
	if km != nil && tlsState != nil {
		ekm, err := tlsState.ExportKeyingMaterial(relayproto.KeyingMaterialLabel, km.PublicKey[:], relayproto.KeyingMaterialLen)
		if err == nil && km.Verify(ekm) == nil {
			id, authed = km.PublicKey, true
			s.metrics.KeyingMaterialAuths.Add(1)
		}
	}
	if !authed {
		var ch relayproto.ServerChallenge
		_, _ = rand.Read(ch.Challenge[:])
		if err := writeFrame(ws, &ch); err != nil {
			return id, err
		}
		op, msg, err := ws.ReadMessage()
		if err != nil {
			s.log.Info("relay: client left during login", "remote", remote, "err", err)
			return id, err
		}
		if op != websocket.OpBinary {
			s.log.Warn("relay: non-binary message during login", "remote", remote)
			return id, errHandshake
		}
		f, err := relayproto.ParseHandshakeFrame(msg, relayproto.ClientToRelay)
		auth, ok := f.(*relayproto.ClientAuth)
		if err != nil || !ok {
			s.metrics.UnknownFrames.Add(1)
			s.log.Warn("relay: malformed login frame", "remote", remote, "err", err)
			return id, errHandshake
		}
		if err := relayproto.VerifyClientAuth(auth, ch.Challenge); err != nil {
			s.metrics.AuthFailures.Add(1)
			s.log.Warn("relay: bad login signature", "remote", remote, "endpoint", identity.EndpointID(auth.PublicKey).Short())
			_ = writeFrame(ws, &relayproto.ServerDeniesAuth{Reason: relayproto.DenyReasonSignatureInvalid})
			return id, errHandshake
		}
		id = auth.PublicKey
	}
	if !s.tokenAllowed(token) {
		s.metrics.AuthFailures.Add(1)
		s.log.Warn("relay: client denied: bad or missing token", "remote", remote, "endpoint", identity.EndpointID(id).Short())
		_ = writeFrame(ws, &relayproto.ServerDeniesAuth{Reason: relayproto.DenyReasonNotAuthorized})
		return id, errHandshake
	}
	return id, nil
}

func writeFrame(ws *websocket.Conn, f relayproto.Frame) error {
	b, err := f.Append(make([]byte, 0, f.EncodedLen()))
	if err != nil {
		return err
	}
	return ws.WriteMessage(websocket.OpBinary, b)
}

// run registers c, starts its writer and reads until the connection ends.
func (s *Server) run(c *serverConn) {
	s.metrics.Accepts.Add(1)
	s.metrics.Clients.Add(1)
	if old := s.reg.register(c); old != nil {
		old.sendStatus(relayproto.StatusSameEndpointIDConnected)
	}
	// Confirm only once registered, so that a client that knows it is
	// connected is also reachable.
	_ = c.ws.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	err := writeFrame(c.ws, &relayproto.ServerConfirmsAuth{})
	var wg sync.WaitGroup
	if err == nil {
		wg.Go(c.writeLoop)
		err = c.readLoop()
	}
	if err != nil && !isQuietClose(err) {
		s.log.Info("relay: client disconnected", append(c.log, "err", err)...)
	}
	c.terminate(websocket.CloseNormal, "")
	wg.Wait()
	promoted, gone := s.reg.unregister(c)
	if promoted != nil {
		promoted.sendStatus(relayproto.StatusHealthy)
	}
	for _, peer := range gone {
		peer.sendCtrl(&relayproto.EndpointGone{EndpointID: c.id})
	}
	s.metrics.Clients.Add(-1)
	s.metrics.Disconnects.Add(1)
}

// terminate closes the connection once; the reader and writer then end.
func (c *serverConn) terminate(code websocket.CloseCode, reason string) {
	c.closeOnce.Do(func() {
		close(c.done)
		_ = c.ws.Close(code, reason)
	})
}

// closeGracefully has the writer send Restarting before closing.
func (c *serverConn) closeGracefully(r *relayproto.Restarting) {
	c.graceful.Store(r)
	c.closeOnce.Do(func() { close(c.done) })
}

// fail logs why the server cuts a client off and closes it.
func (c *serverConn) fail(code websocket.CloseCode, msg string, err error) error {
	c.s.log.Warn(msg, append(c.log, "err", err)...)
	c.terminate(code, "")
	return err
}

func (c *serverConn) sendStatus(code relayproto.StatusCode) {
	c.sendCtrl(relayproto.StatusFrame(code, c.version))
}

// sendCtrl queues a non-datagram frame, best effort.
func (c *serverConn) sendCtrl(f relayproto.Frame) {
	b := getBuf()
	enc, err := relayproto.AppendFrameFor(*b, f, c.version, relayproto.RelayToClient)
	if err != nil {
		putBuf(b)
		return
	}
	*b = enc
	select {
	case c.ctrlq <- b:
	default:
		putBuf(b)
		c.s.metrics.OtherPacketsDropped.Add(1)
	}
}

func (c *serverConn) readLoop() error {
	var parser relayproto.Parser
	// Every frame counts against the limit, text and control ones too,
	// and pongs go out through the writer, under its deadline.
	if c.bucket != nil {
		c.ws.OnReadFrame = c.throttle
	}
	c.ws.OnPing = func(p []byte) {
		select {
		case c.wsPongq <- append([]byte(nil), p...):
		default: // a ping flood: shed, as relay pings
		}
	}
	for {
		op, msg, err := c.ws.ReadMessage()
		if err != nil {
			select {
			case <-c.done:
				return nil // we closed it
			default:
			}
			if errors.Is(err, websocket.ErrMessageTooLarge) {
				c.s.metrics.UnknownFrames.Add(1)
				return c.fail(websocket.CloseTooBig, "relay: oversize message, closing client", err)
			}
			if isQuietClose(err) {
				return err
			}
			return c.fail(websocket.CloseProtocolError, "relay: read error, closing client", err)
		}
		if op != websocket.OpBinary {
			c.s.log.Debug("relay: ignoring text message", c.log...)
			continue // as iroh
		}
		now := time.Now()
		c.lastRecv.Store(now.UnixNano())
		f, err := parser.Parse(msg, c.version, relayproto.ClientToRelay)
		if err != nil {
			c.s.metrics.UnknownFrames.Add(1)
			return c.fail(websocket.CloseProtocolError, "relay: malformed frame, closing client", err)
		}
		switch f := f.(type) {
		case *relayproto.ClientToRelayDatagram:
			c.forward(f.Dst, f.ECN, 0, f.Payload)
		case *relayproto.ClientToRelayDatagramBatch:
			c.forward(f.Dst, f.ECN, f.SegmentSize, f.Payload)
		case *relayproto.Ping:
			c.s.metrics.GotPing.Add(1)
			select {
			case c.pongq <- f.Data:
			default: // a ping flood; iroh answers one per ping but we shed
			}
		case *relayproto.Pong:
			c.pings.pong(f.Data, now)
		default:
			c.s.metrics.UnknownFrames.Add(1)
			return c.fail(websocket.CloseProtocolError, "relay: unexpected frame, closing client", fmt.Errorf("type %v", f.Type()))
		}
	}
}

// throttle charges one frame to the bucket, pausing the reader (and so,
// through TCP, the client) until the bucket covers it.
func (c *serverConn) throttle(n int) {
	wait := c.bucket.take(n, time.Now())
	if wait <= 0 {
		return
	}
	c.rateLimited(n)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.done:
	}
}

func (c *serverConn) rateLimited(n int) {
	c.s.metrics.BytesRxRatelimited.Add(int64(n))
	if !c.limited {
		c.limited = true
		c.s.metrics.ConnsRxRatelimited.Add(1)
		if c.version == relayproto.V2 {
			c.sendStatus(relayproto.StatusRateLimited)
		}
	}
}

// forward routes one datagram frame to dst's active connection, dropping it
// (as iroh) if dst is unknown or its queue is full.
func (c *serverConn) forward(dst endpointID, ecn relayproto.ECN, seg uint16, payload []byte) {
	m := &c.s.metrics
	m.SendPacketsRecv.Add(1)
	m.BytesRecv.Add(int64(len(payload)))
	if len(payload) == 0 { // would break a Rust destination's writer
		m.SendPacketsDropped.Add(1)
		return
	}
	to := c.s.reg.lookup(dst)
	if to == nil {
		m.SendPacketsDropped.Add(1)
		return
	}
	b := getBuf()
	var enc []byte
	var err error
	if seg == 0 {
		out := relayproto.RelayToClientDatagram{Src: c.id, ECN: ecn, Payload: payload}
		enc, err = out.Append(*b)
	} else {
		out := relayproto.RelayToClientDatagramBatch{Src: c.id, ECN: ecn, SegmentSize: seg, Payload: payload}
		enc, err = out.Append(*b)
	}
	if err != nil {
		putBuf(b)
		m.SendPacketsDropped.Add(1)
		return
	}
	*b = enc
	select {
	case to.dataq <- b:
		m.SendPacketsSent.Add(1)
		m.BytesSent.Add(int64(len(payload)))
		if _, ok := c.recorded[dst]; !ok {
			c.recorded[dst] = struct{}{}
			c.s.reg.recordSent(c.id, dst)
		}
	default:
		putBuf(b)
		m.SendPacketsDropped.Add(1)
	}
}

// pingDelay is the server's ping interval plus iroh-style jitter.
func (c *serverConn) pingDelay() time.Duration {
	iv := c.s.cfg.PingInterval
	lo, hi := iv/15, iv/3
	return iv + lo + time.Duration(mrand.Int64N(int64(hi-lo)+1))
}

// maxWriteBatch caps how many bytes the writer coalesces into one write.
const maxWriteBatch = 64 << 10

func (c *serverConn) writeLoop() {
	timer := time.NewTimer(c.pingDelay())
	defer timer.Stop()
	for {
		select {
		case <-c.done:
			c.finishWrites()
			return
		case data := <-c.pongq:
			c.s.metrics.SentPong.Add(1)
			if !c.write(&relayproto.Pong{Data: data}) {
				return
			}
		case p := <-c.wsPongq:
			_ = c.ws.QueueControl(websocket.OpPong, p)
			if !c.flush() {
				return
			}
		case b := <-c.dataq:
			if !c.writeBatch(b) {
				return
			}
		case b := <-c.ctrlq:
			if !c.writeBatch(b) {
				return
			}
		case <-timer.C:
			if !c.keepalive(timer) {
				return
			}
		}
	}
}

// keepalive runs when the ping timer fires: time out an unanswered ping,
// or ping a client that has been silent for a full interval.
func (c *serverConn) keepalive(timer *time.Timer) bool {
	now := time.Now()
	if dl, ok := c.pings.deadline(); ok {
		if now.After(dl) {
			_ = c.fail(websocket.ClosePolicyViolation, "relay: ping timeout, closing client", errPingTimeout)
			return false
		}
		timer.Reset(min(dl.Sub(now), c.s.cfg.PingInterval))
		return true
	}
	silent := now.Sub(time.Unix(0, c.lastRecv.Load()))
	if silent < c.s.cfg.PingInterval {
		timer.Reset(c.pingDelay() - silent)
		return true
	}
	data := c.pings.start(now)
	if !c.write(&relayproto.Ping{Data: data}) {
		return false
	}
	dl, _ := c.pings.deadline()
	timer.Reset(min(dl.Sub(now), c.s.cfg.PingInterval))
	return true
}

func (c *serverConn) write(f relayproto.Frame) bool {
	b, err := encodePooled(f)
	if err != nil {
		return true // our own frame failed to encode: drop it, keep the client
	}
	return c.writeBatch(b)
}

// writeBatch queues b plus whatever else is waiting (datagrams first, up to
// maxWriteBatch bytes) and writes it all with one deadline.
func (c *serverConn) writeBatch(b *[]byte) bool {
	total := 0
	queue := func(b *[]byte) {
		total += len(*b)
		_ = c.ws.QueueMessage(websocket.OpBinary, *b)
		putBuf(b)
	}
	queue(b)
more:
	for total < maxWriteBatch {
		select {
		case b := <-c.dataq:
			queue(b)
		case b := <-c.ctrlq:
			queue(b)
		default:
			break more
		}
	}
	return c.flush()
}

// flush writes everything queued under a fresh write deadline.
func (c *serverConn) flush() bool {
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
	if err := c.ws.Flush(); err != nil {
		select {
		case <-c.done:
			return false
		default:
		}
		c.s.metrics.WriteTimeouts.Add(1)
		_ = c.fail(websocket.CloseGoingAway, "relay: write failed or timed out, closing client", err)
		return false
	}
	return true
}

// finishWrites sends Restarting on graceful shutdown, then closes.
func (c *serverConn) finishWrites() {
	r := c.graceful.Load()
	if r == nil {
		return
	}
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
	_ = writeFrame(c.ws, r)
	_ = c.ws.Close(websocket.CloseGoingAway, "relay restarting")
}
