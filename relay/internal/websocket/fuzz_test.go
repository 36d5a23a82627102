package websocket

import (
	"bufio"
	"bytes"
	"net"
	"testing"
	"time"
)

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0x82, 0x05})
	f.Add([]byte{0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4})
	f.Add([]byte{0x88, 0x02, 0x03, 0xE8})
	f.Add([]byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		if err != nil {
			return
		}
		if n != h.Len() || n > len(b) {
			t.Fatalf("n=%d Len=%d", n, h.Len())
		}
		if re := AppendHeader(nil, h); !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encode %x != %x", re, b[:n])
		}
	})
}

// nopConn is a net.Conn over fixed input that discards writes.
type nopConn struct {
	net.Conn
	r *bytes.Reader
}

func (c *nopConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *nopConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *nopConn) Close() error                     { return nil }
func (c *nopConn) SetDeadline(time.Time) error      { return nil }
func (c *nopConn) SetReadDeadline(time.Time) error  { return nil }
func (c *nopConn) SetWriteDeadline(time.Time) error { return nil }

func FuzzReadMessage(f *testing.F) {
	f.Add(masked(OpBinary, true, []byte("hi")), true)
	f.Add(append(masked(OpBinary, false, []byte("a")), masked(OpContinuation, true, []byte("b"))...), true)
	f.Add(masked(OpClose, true, []byte{0x03, 0xE8}), true)
	f.Add([]byte{0x82, 0x02, 'h', 'i', 0x89, 0x00}, false)
	f.Fuzz(func(t *testing.T, raw []byte, server bool) {
		role := ClientRole
		if server {
			role = ServerRole
		}
		nc := &nopConn{r: bytes.NewReader(raw)}
		c := NewConn(nc, bufio.NewReader(nc), role)
		c.MaxMessageSize = 4096
		for range 64 {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if len(msg) > c.MaxMessageSize {
				t.Fatalf("message of %d bytes over the limit", len(msg))
			}
		}
	})
}

// FuzzClientHandshake feeds arbitrary upgrade responses to the client:
// it must fail cleanly, and never read more than the head limit before
// the handshake is done.
func FuzzClientHandshake(f *testing.F) {
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: p\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!"))
	f.Add([]byte("HTTP/1.1 101 \r\nX: " + string(bytes.Repeat([]byte("a"), MaxResponseHeaderBytes)) + "\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		nc := &nopConn{r: bytes.NewReader(raw)}
		c, _, err := ClientHandshake(nc, ClientRequest{Host: "x", Path: "/", Subprotocols: "p"})
		if err == nil && c == nil {
			t.Fatal("no error and no connection")
		}
		if read := len(raw) - nc.r.Len(); err != nil && read > MaxResponseHeaderBytes {
			t.Fatalf("read %d bytes of a failed handshake", read)
		}
	})
}
