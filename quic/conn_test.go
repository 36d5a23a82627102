package quic

import (
	"bytes"
	"io"
	"testing"
)

func TestHandshakeAndEcho(t *testing.T) {
	ck, sk := testKey(t, 1), testKey(t, 2)
	c, s, cep, sep := pair(t, &Config{SecretKey: ck}, &Config{SecretKey: sk})
	if c.RemoteID() != sep.ID() || s.RemoteID() != cep.ID() {
		t.Fatalf("remote IDs %s/%s", c.RemoteID().Short(), s.RemoteID().Short())
	}
	if c.ALPN() != testALPN || s.ALPN() != testALPN {
		t.Fatalf("ALPN %q %q", c.ALPN(), s.ALPN())
	}
	ctx := testCtx(t)
	go func() {
		st, err := s.AcceptStream(ctx)
		if err != nil {
			return
		}
		io.Copy(st, st)
		st.Close()
	}()
	st, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("hello quic "), 1000)
	if _, err := st.Write(msg); err != nil {
		t.Fatal(err)
	}
	st.Close()
	got, err := io.ReadAll(st)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo mismatch: %d bytes", len(got))
	}
}
