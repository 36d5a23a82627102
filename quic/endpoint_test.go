package quic

import (
	"bufio"
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A server endpoint that lost a connection's state answers the client's
// next packet with a stateless reset, which ends the client's connection.
func TestStatelessResetEndsConnection(t *testing.T) {
	c, s, _, sep := pair(t, nil, nil)
	sep.mu.Lock()
	sep.ep.Remove(s)
	sep.mu.Unlock()
	requireResetOnNextPacket(t, c)
}

// requireResetOnNextPacket sends on c and requires the answer to be a
// stateless reset that ends it.
func requireResetOnNextPacket(t *testing.T, c *Conn) {
	t.Helper()
	st, err := c.OpenStream(testCtx(t))
	switch {
	case errors.Is(err, ErrStatelessReset):
		// A packet the client still had to send (an ACK) drew the reset
		// first.
	case err != nil:
		t.Fatal(err)
	default:
		st.Write(bytes.Repeat([]byte("x"), 100))
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("client did not notice the reset")
	}
	if !errors.Is(c.Err(), ErrStatelessReset) {
		t.Fatalf("client error %v", c.Err())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestKeyLogAndLogger(t *testing.T) {
	var keys, logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _, cep, _ := pair(t, &Config{KeyLogWriter: &keys, Logger: logger}, nil)
	c.Close(0, "")
	for _, label := range []string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"} {
		if !strings.Contains(keys.String(), label) {
			t.Fatalf("key log lacks %s:\n%s", label, keys.String())
		}
	}
	if !strings.Contains(logs.String(), "endpoint="+cep.ID().Short()) || !strings.Contains(logs.String(), "handshake complete") {
		t.Fatalf("log:\n%s", logs.String())
	}
}

// TestSSLKeyLogFile: SSLKEYLOGFILE is honoured only with Config.KeyLog;
// the variable alone writes nothing, on either side.
func TestSSLKeyLogFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "keys.txt")
	t.Setenv("SSLKEYLOGFILE", name)
	c, _, cep, sep := pair(t, nil, nil)
	c.Close(0, "")
	cep.Close()
	sep.Close()
	if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("SSLKEYLOGFILE alone turned key logging on (stat: %v)", err)
	}
	c, _, cep, _ = pair(t, &Config{KeyLog: true}, nil)
	c.Close(0, "")
	cep.Close()
	b, err := os.ReadFile(name)
	if err != nil || !strings.Contains(string(b), "CLIENT_TRAFFIC_SECRET_0") {
		t.Fatalf("key log file: %v\n%s", err, b)
	}
}

func TestQlog(t *testing.T) {
	dir := t.TempDir()
	c, _, cep, _ := pair(t, &Config{QlogDir: dir}, nil)
	c.Close(5, "done")
	cep.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*_client_*.sqlog"))
	if len(files) != 1 {
		t.Fatalf("qlog files %v", files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "\x1e{") {
			t.Fatalf("not JSON-SEQ: %q", line)
		}
		for _, ev := range []string{"qlog_version", "transport:packet_sent", "transport:packet_received", "transport:connection_closed"} {
			if strings.Contains(line, `"`+ev+`"`) {
				seen[ev] = true
			}
		}
	}
	if len(seen) != 4 {
		t.Fatalf("qlog has only %v", seen)
	}
}

func TestEndpointClosed(t *testing.T) {
	e := newTestEndpoint(t, &Config{ALPNs: []string{testALPN}})
	e.Close()
	if _, err := e.Dial(testCtx(t), addrOf(t, e.LocalAddr()), e.ID(), testALPN); !errors.Is(err, ErrClosed) {
		t.Fatalf("Dial: %v", err)
	}
	if _, err := e.Accept(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Accept: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// Closing the endpoint closes its connections with code 0, and the peer
// hears about it.
func TestEndpointCloseNotifiesPeer(t *testing.T) {
	c, s, cep, _ := pair(t, nil, nil)
	cep.Close()
	var ae *ApplicationError
	if !errors.As(c.Err(), &ae) || ae.Code != 0 || ae.Remote {
		t.Fatalf("client error %v", c.Err())
	}
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("server did not hear the close")
	}
	if !errors.As(s.Err(), &ae) || ae.Code != 0 || !ae.Remote {
		t.Fatalf("server error %v", s.Err())
	}
}
