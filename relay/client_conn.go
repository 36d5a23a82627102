package relay

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/relay/internal/websocket"
	"github.com/alkdev/irohspoke/relay/relayproto"
)

// errDeadLink: the relay did not answer a ping in time.
var errDeadLink = errors.New("relay: ping timeout (dead link)")

// clientConn is one live connection of a Client.
type clientConn struct {
	c        *Client
	ws       *websocket.Conn
	version  relayproto.Version
	pongq    chan [relayproto.PingDataLen]byte
	wsPongq  chan []byte // WebSocket ping payloads to answer
	lastRecv atomic.Int64
	done     chan struct{}
	once     sync.Once
	err      error // first reason the connection ended (set inside once)
}

func (cc *clientConn) stop(err error) {
	cc.once.Do(func() {
		cc.err = err
		close(cc.done)
		_ = cc.ws.Close(websocket.CloseNormal, "")
	})
}

// serve runs one connection until it fails or the client is closed.
func (c *Client) serve(ws *websocket.Conn, v relayproto.Version) error {
	cc := &clientConn{c: c, ws: ws, version: v, done: make(chan struct{}),
		pongq: make(chan [relayproto.PingDataLen]byte, 8), wsPongq: make(chan []byte, 2)}
	cc.lastRecv.Store(time.Now().UnixNano())
	// Pongs go out through the writer, under its deadline; a flood is shed.
	ws.OnPing = func(p []byte) {
		select {
		case cc.wsPongq <- append([]byte(nil), p...):
		default:
		}
	}
	c.pings.reset()
	c.checkLocal.Store(nil) // addresses given before this connection say nothing about it
	stopCtx := make(chan struct{})
	go func() {
		select {
		case <-c.ctx.Done():
			cc.stop(ErrClientClosed)
		case <-stopCtx:
		}
	}()
	var wg sync.WaitGroup
	wg.Go(func() { cc.stop(cc.readLoop()) })
	cc.stop(cc.writeLoop())
	wg.Wait()
	close(stopCtx)
	return cc.err
}

func (cc *clientConn) readLoop() error {
	var parser relayproto.Parser
	for {
		op, msg, err := cc.ws.ReadMessage()
		if err != nil {
			return fmt.Errorf("relay: read: %w", err)
		}
		if op != websocket.OpBinary {
			continue
		}
		now := time.Now()
		cc.lastRecv.Store(now.UnixNano())
		f, err := parser.Parse(msg, cc.version, relayproto.RelayToClient)
		if err != nil {
			return fmt.Errorf("relay: bad frame from relay: %w", err)
		}
		switch f := f.(type) {
		case *relayproto.RelayToClientDatagram:
			cc.deliver(f.Src, f.ECN, f.Payload)
		case *relayproto.RelayToClientDatagramBatch:
			for p := range f.Segments() {
				cc.deliver(f.Src, f.ECN, p)
			}
		case *relayproto.Ping:
			select {
			case cc.pongq <- f.Data:
			default:
			}
		case *relayproto.Pong:
			cc.c.pings.pong(f.Data, now)
		case *relayproto.EndpointGone:
			cc.event(Event{Kind: EventEndpointGone, Src: identity.EndpointID(f.EndpointID)})
		case *relayproto.Status:
			cc.event(Event{Kind: EventStatus, StatusCode: f.Code})
		case *relayproto.Health:
			cc.event(Event{Kind: EventHealth, Health: f.Problem})
		case *relayproto.Restarting:
			cc.event(Event{Kind: EventRestarting, Restarting: *f})
		}
	}
}

// deliver copies one datagram into an event; if the application is not
// reading, it is dropped (as UDP would) so keepalive keeps working.
func (cc *clientConn) deliver(src [relayproto.EndpointIDLen]byte, ecn relayproto.ECN, p []byte) {
	if len(p) == 0 {
		return
	}
	cc.event(Event{Kind: EventDatagram, Src: identity.EndpointID(src), ECN: ecn, Payload: append([]byte(nil), p...)})
}

func (cc *clientConn) event(ev Event) {
	select {
	case cc.c.events <- ev:
	default:
		cc.c.droppedRecv.Add(1)
	}
}

func (cc *clientConn) writeLoop() error {
	c := cc.c
	// iroh pings right after connecting, which also measures the RTT.
	if err := cc.writePing(); err != nil {
		return err
	}
	timer := time.NewTimer(cc.nextKeepalive(time.Now()))
	defer timer.Stop()
	for {
		select {
		case <-cc.done:
			return nil
		case data := <-cc.pongq:
			if err := cc.writeFrame(&relayproto.Pong{Data: data}); err != nil {
				return err
			}
		case p := <-cc.wsPongq:
			if err := cc.ws.QueueControl(websocket.OpPong, p); err != nil {
				return err
			}
			if err := cc.flush(); err != nil {
				return err
			}
		case b := <-c.sendq:
			if err := cc.writeBatch(b); err != nil {
				return err
			}
		case <-c.checkq:
			if cc.localAddrGone() {
				return errLocalAddrGone
			}
			if _, ok := c.pings.deadline(); !ok {
				if err := cc.writePing(); err != nil {
					return err
				}
			}
			timer.Reset(cc.nextKeepalive(time.Now()))
		case <-timer.C:
			now := time.Now()
			if dl, ok := c.pings.deadline(); ok && now.After(dl) {
				return errDeadLink
			}
			if _, ok := c.pings.deadline(); !ok && now.Sub(time.Unix(0, cc.lastRecv.Load())) >= c.cfg.PingInterval {
				if err := cc.writePing(); err != nil {
					return err
				}
			}
			timer.Reset(cc.nextKeepalive(time.Now()))
		}
	}
}

// nextKeepalive is the wait until the pong deadline or the next ping.
func (cc *clientConn) nextKeepalive(now time.Time) time.Duration {
	if dl, ok := cc.c.pings.deadline(); ok {
		// Re-check at least once per interval: a pong may settle it sooner.
		return max(min(dl.Sub(now), cc.c.cfg.PingInterval), time.Millisecond)
	}
	due := time.Unix(0, cc.lastRecv.Load()).Add(cc.c.cfg.PingInterval)
	return max(due.Sub(now), time.Millisecond)
}

func (cc *clientConn) writePing() error {
	data := cc.c.pings.start(time.Now())
	return cc.writeFrame(&relayproto.Ping{Data: data})
}

func (cc *clientConn) writeFrame(f relayproto.Frame) error {
	b, err := encodePooled(f)
	if err != nil {
		return err
	}
	return cc.writeBatch(b)
}

// writeBatch writes b plus whatever else is queued, up to maxWriteBatch
// bytes, in one write.
func (cc *clientConn) writeBatch(b *[]byte) error {
	total := len(*b)
	err := cc.ws.QueueMessage(websocket.OpBinary, *b)
	putBuf(b)
more:
	for err == nil && total < maxWriteBatch {
		select {
		case b := <-cc.c.sendq:
			total += len(*b)
			err = cc.ws.QueueMessage(websocket.OpBinary, *b)
			putBuf(b)
		default:
			break more
		}
	}
	if err != nil {
		return err
	}
	return cc.flush()
}

// flush writes everything queued under iroh's 15 s send timeout.
func (cc *clientConn) flush() error {
	_ = cc.ws.SetWriteDeadline(time.Now().Add(relayproto.ClientSendTimeout))
	if err := cc.ws.Flush(); err != nil {
		return fmt.Errorf("relay: write: %w", err)
	}
	return nil
}
