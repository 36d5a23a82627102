package relay

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/relay/internal/websocket"
	"github.com/alkdev/irohspoke/relay/relayproto"
)

// pipeConn is a net.Conn that reads fixed input, then EOF, and discards
// writes.
type pipeConn struct {
	net.Conn
	mu sync.Mutex
	r  *bytes.Reader
}

func (c *pipeConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.r.Read(p)
}
func (c *pipeConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *pipeConn) Close() error                     { return nil }
func (c *pipeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *pipeConn) SetDeadline(time.Time) error      { return nil }
func (c *pipeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *pipeConn) SetWriteDeadline(time.Time) error { return nil }

// fuzzKey is a fixed identity so seeds can address the fuzzed client itself.
var fuzzKey = func() identity.SecretKey {
	k, _ := identity.SecretKeyFromBytes(bytes.Repeat([]byte{7}, 32))
	return k
}()

// wsMessages wraps each relay frame into a masked binary WebSocket frame.
func wsMessages(frames ...[]byte) []byte {
	var out []byte
	for _, f := range frames {
		h := websocket.Header{Fin: true, Op: websocket.OpBinary, Masked: true, MaskKey: [4]byte{1, 2, 3, 4}, Length: uint64(len(f))}
		out = websocket.AppendHeader(out, h)
		start := len(out)
		out = append(out, f...)
		websocket.Mask(h.MaskKey, 0, out[start:])
	}
	return out
}

// FuzzServerConn feeds arbitrary bytes to the server after the upgrade:
// raw (including the login) or as already-framed relay messages after a
// successful login. The server must never panic or hang.
func FuzzServerConn(f *testing.F) {
	self := fuzzKey.Public()
	dg, _ := (&relayproto.ClientToRelayDatagram{Dst: self, ECN: relayproto.ECT0, Payload: []byte("hi")}).Append(nil)
	batch, _ := (&relayproto.ClientToRelayDatagramBatch{Dst: self, SegmentSize: 2, Payload: []byte("abcde")}).Append(nil)
	ping, _ := (&relayproto.Ping{Data: [8]byte{1}}).Append(nil)
	pong, _ := (&relayproto.Pong{}).Append(nil)
	f.Add(wsMessages(dg, batch, ping, pong), true)
	f.Add(wsMessages(dg, []byte{0x0e}), true)
	f.Add(wsMessages(append([]byte{byte(relayproto.TypeClientToRelayDatagram)}, self[:]...)), true)
	f.Add(wsMessages(make([]byte, 98)), false)
	f.Add([]byte("garbage"), false)
	f.Fuzz(func(t *testing.T, data []byte, authed bool) {
		s := NewServer(ServerConfig{Logger: discard, EstablishTimeout: time.Second})
		nc := &pipeConn{r: bytes.NewReader(data)}
		ws := websocket.NewConn(nc, nil, websocket.ServerRole)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if authed {
				s.serveAuthed(ws, self, relayproto.V2, "fuzz", nil)
			} else {
				s.handleConn(ws, relayproto.V2, "fuzz", nil, nil, "")
			}
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("server connection did not end at EOF")
		}
		if n := s.Metrics().Clients.Load(); n != 0 {
			t.Fatalf("%d clients left registered", n)
		}
	})
}
