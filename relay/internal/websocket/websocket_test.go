package websocket

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAcceptKeyRFCExample(t *testing.T) {
	// RFC 6455 §1.3.
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptKey = %q", got)
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, n := range []uint64{0, 1, 125, 126, 65535, 65536, 1 << 40} {
		for _, masked := range []bool{false, true} {
			h := Header{Fin: true, Op: OpBinary, Masked: masked, Length: n}
			if masked {
				h.MaskKey = [4]byte{1, 2, 3, 4}
			}
			b := AppendHeader(nil, h)
			if len(b) != h.Len() {
				t.Fatalf("len %d != Len %d", len(b), h.Len())
			}
			got, m, err := ParseHeader(b)
			if err != nil || m != len(b) || got != h {
				t.Fatalf("n=%d masked=%v: got %+v %d %v", n, masked, got, m, err)
			}
			if _, _, err := ParseHeader(b[:len(b)-1]); !errors.Is(err, ErrShortHeader) {
				t.Fatalf("truncated: %v", err)
			}
		}
	}
}

func TestHeaderRejects(t *testing.T) {
	cases := map[string][]byte{
		"rsv":            {0xC2, 0x00},
		"opcode 3":       {0x83, 0x00},
		"fragmented png": {0x09, 0x00},
		"long ping":      {0x89, 126, 0x00, 200},
		"nonminimal 16":  {0x82, 126, 0x00, 10},
		"nonminimal 64":  {0x82, 127, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF},
		"top bit 64":     {0x82, 127, 0x80, 0, 0, 0, 0, 1, 0, 0},
	}
	for name, b := range cases {
		if _, _, err := ParseHeader(b); err == nil || errors.Is(err, ErrShortHeader) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestMaskPieces(t *testing.T) {
	key := [4]byte{0xA1, 0xB2, 0xC3, 0xD4}
	orig := make([]byte, 100)
	for i := range orig {
		orig[i] = byte(i * 7)
	}
	whole := bytes.Clone(orig)
	Mask(key, 0, whole)
	for i := range whole {
		if whole[i] != orig[i]^key[i%4] {
			t.Fatalf("byte %d", i)
		}
	}
	pieces := bytes.Clone(orig)
	pos := Mask(key, 0, pieces[:3])
	pos = Mask(key, pos, pieces[3:50])
	Mask(key, pos, pieces[50:])
	if !bytes.Equal(pieces, whole) {
		t.Fatal("masking in pieces differs")
	}
}

func TestCloseCodes(t *testing.T) {
	if _, _, err := ParseClosePayload([]byte{3}); err == nil {
		t.Fatal("1-byte close payload accepted")
	}
	if _, _, err := ParseClosePayload([]byte{0x03, 0xED}); err == nil { // 1005
		t.Fatal("code 1005 accepted")
	}
	c, r, err := ParseClosePayload(AppendClosePayload(nil, CloseGoingAway, "bye"))
	if err != nil || c != CloseGoingAway || r != "bye" {
		t.Fatal(c, r, err)
	}
}

// pair upgrades a real loopback connection through an httptest server.
func pair(t *testing.T) (client, server *Conn) {
	t.Helper()
	srvCh := make(chan *Conn, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := CheckUpgradeRequest(r); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c, err := Upgrade(w, r, "test-proto")
		if err != nil {
			t.Error(err)
			return
		}
		srvCh <- c
	}))
	t.Cleanup(ts.Close)
	nc, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, proto, err := ClientHandshake(nc, ClientRequest{Host: "x", Path: "/", Subprotocols: "a, test-proto"})
	if err != nil {
		t.Fatal(err)
	}
	if proto != "test-proto" {
		t.Fatalf("proto %q", proto)
	}
	s := <-srvCh
	t.Cleanup(func() { c.Close(CloseNormal, ""); s.Close(CloseNormal, "") })
	return c, s
}

func TestMessagesBothWays(t *testing.T) {
	c, s := pair(t)
	big := bytes.Repeat([]byte{0x5A}, 70000)
	go func() {
		_ = c.WriteMessage(OpBinary, []byte("hello"))
		_ = c.WriteMessage(OpBinary, big)
		_ = c.WriteControl(OpPing, []byte("p"))
		_ = c.WriteMessage(OpBinary, nil)
	}()
	for _, want := range [][]byte{[]byte("hello"), big, {}} {
		op, got, err := s.ReadMessage()
		if err != nil || op != OpBinary || !bytes.Equal(got, want) {
			t.Fatalf("server read: %v %v len %d", op, err, len(got))
		}
	}
	// The ping was answered with a pong the client sees via OnPong.
	pong := make(chan string, 1)
	c.OnPong = func(p []byte) { pong <- string(p) }
	go func() { _ = s.WriteMessage(OpBinary, []byte("back")) }()
	op, got, err := c.ReadMessage()
	if err != nil || op != OpBinary || string(got) != "back" {
		t.Fatal(op, string(got), err)
	}
	if p := <-pong; p != "p" {
		t.Fatalf("pong %q", p)
	}
	// Close from the server reaches the client as a CloseError.
	_ = s.Close(CloseGoingAway, "shutdown")
	_, _, err = c.ReadMessage()
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != CloseGoingAway || ce.Reason != "shutdown" {
		t.Fatalf("err %v", err)
	}
}

// rawServer returns a server Conn reading the given raw bytes.
func rawServer(raw []byte) *Conn {
	return NewConn(&nopConn{r: bytes.NewReader(raw)}, nil, ServerRole)
}

func masked(op Opcode, fin bool, p []byte) []byte {
	h := Header{Fin: fin, Op: op, Masked: true, MaskKey: [4]byte{9, 8, 7, 6}, Length: uint64(len(p))}
	b := AppendHeader(nil, h)
	start := len(b)
	b = append(b, p...)
	Mask(h.MaskKey, 0, b[start:])
	return b
}

func TestFragmentsAndLimits(t *testing.T) {
	raw := append(masked(OpBinary, false, []byte("ab")), masked(OpPing, true, []byte("x"))...)
	raw = append(raw, masked(OpContinuation, true, []byte("cd"))...)
	c := rawServer(raw)
	op, got, err := c.ReadMessage()
	if err != nil || op != OpBinary || string(got) != "abcd" {
		t.Fatal(op, string(got), err)
	}

	c = rawServer(masked(OpContinuation, true, []byte("x")))
	if _, _, err := c.ReadMessage(); !errors.Is(err, ErrFragmentation) {
		t.Fatalf("lone continuation: %v", err)
	}
	c = rawServer(append(masked(OpBinary, false, []byte("x")), masked(OpBinary, true, []byte("y"))...))
	if _, _, err := c.ReadMessage(); !errors.Is(err, ErrFragmentation) {
		t.Fatalf("interleaved data: %v", err)
	}
	c = rawServer(append(masked(OpBinary, false, make([]byte, 60)), masked(OpContinuation, true, make([]byte, 60))...))
	c.MaxMessageSize = 100
	if _, _, err := c.ReadMessage(); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	c = rawServer([]byte{0x82, 0x01, 'x'}) // unmasked from a client
	if _, _, err := c.ReadMessage(); !errors.Is(err, ErrMasking) {
		t.Fatalf("unmasked: %v", err)
	}
	c = rawServer(masked(OpBinary, true, []byte("abc"))[:5])
	if _, _, err := c.ReadMessage(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated: %v", err)
	}
}

func TestUpgradeRejections(t *testing.T) {
	base := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/relay", nil)
		r.Header.Set("Upgrade", "websocket")
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Sec-WebSocket-Key", NewKey())
		r.Header.Set("Sec-WebSocket-Version", "13")
		return r
	}
	if err := CheckUpgradeRequest(base()); err != nil {
		t.Fatal(err)
	}
	r := base()
	r.Header.Set("Sec-WebSocket-Version", "8")
	if err := CheckUpgradeRequest(r); !errors.Is(err, ErrBadVersion) {
		t.Fatal(err)
	}
	r = base()
	r.Header.Set("Sec-WebSocket-Key", "short")
	if err := CheckUpgradeRequest(r); !errors.Is(err, ErrBadUpgradeRequest) {
		t.Fatal(err)
	}
	r = base()
	r.Method = http.MethodPost
	if err := CheckUpgradeRequest(r); !errors.Is(err, ErrBadUpgradeRequest) {
		t.Fatal(err)
	}
}

func TestClientRejectsMissingSubprotocol(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj := w.(http.Hijacker)
		nc, _, _ := hj.Hijack()
		_, _ = nc.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"))
		_, _ = io.Copy(io.Discard, nc) // until the client hangs up
		nc.Close()
	}))
	defer ts.Close()
	nc, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, _, err := ClientHandshake(nc, ClientRequest{Host: "x", Path: "/", Subprotocols: "p"}); !errors.Is(err, ErrNoSubprotocol) {
		t.Fatalf("err %v", err)
	}
}
