package websocket

import (
	"bytes"
	"slices"
	"testing"
)

// recordingConn is a nopConn that keeps what is written.
type recordingConn struct {
	nopConn
	out bytes.Buffer
}

func (c *recordingConn) Write(p []byte) (int, error) { return c.out.Write(p) }

func TestOnReadFrameSeesEveryFrame(t *testing.T) {
	var raw []byte
	raw = append(raw, masked(OpText, true, []byte("text"))...)
	raw = append(raw, masked(OpPing, true, []byte("ping"))...)
	raw = append(raw, masked(OpPong, true, nil)...)
	raw = append(raw, masked(OpBinary, false, bytes.Repeat([]byte("x"), 200))...)
	raw = append(raw, masked(OpContinuation, true, []byte("y"))...)
	c := rawServer(raw)
	var sizes []int
	c.OnReadFrame = func(n int) { sizes = append(sizes, n) }
	for range 2 {
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	}
	// Masked headers: 6 bytes, 8 with a 16-bit length.
	if want := []int{6 + 4, 6 + 4, 6, 8 + 200, 6 + 1}; !slices.Equal(sizes, want) {
		t.Fatalf("sizes %v, want %v", sizes, want)
	}
}

// A frame over the size limit is refused before it is charged: a limiter
// must not be made to wait for bytes that will never be read.
func TestOnReadFrameSkipsRefusedFrame(t *testing.T) {
	c := rawServer(masked(OpBinary, true, make([]byte, 300)))
	c.MaxMessageSize = 100
	charged := 0
	c.OnReadFrame = func(n int) { charged += n }
	if _, _, err := c.ReadMessage(); err != ErrMessageTooLarge {
		t.Fatalf("err %v", err)
	}
	if charged != 0 {
		t.Fatalf("charged %d bytes for a refused frame", charged)
	}
}

func TestOnPingTakesOverPongs(t *testing.T) {
	raw := append(masked(OpPing, true, []byte("hi")), masked(OpBinary, true, []byte("data"))...)
	nc := &recordingConn{nopConn: nopConn{r: bytes.NewReader(raw)}}
	c := NewConn(nc, nil, ServerRole)
	var pinged []string
	c.OnPing = func(p []byte) { pinged = append(pinged, string(p)) }
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "data" {
		t.Fatalf("read %q %v", msg, err)
	}
	if nc.out.Len() != 0 || !slices.Equal(pinged, []string{"hi"}) {
		t.Fatalf("reader wrote %d bytes; OnPing saw %q", nc.out.Len(), pinged)
	}
	// The owner's pong goes out with its next flush.
	if err := c.QueueControl(OpPong, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x8A, 0x02, 'h', 'i'}; !bytes.Equal(nc.out.Bytes(), want) {
		t.Fatalf("wrote %x, want %x", nc.out.Bytes(), want)
	}
	if err := c.QueueControl(OpBinary, nil); err != ErrBadControlFrame {
		t.Fatalf("QueueControl(binary): %v", err)
	}
}
