package quic

import (
	"context"
	"io"
	"testing"
	"time"
)

// TestAnnounceStream: the server accepts a stream the client opened and
// announced without writing, and data flows both ways on it afterwards;
// without Announce the server sees nothing.
func TestAnnounceStream(t *testing.T) {
	client, server, _, _ := pair(t, nil, nil)
	ctx := testCtx(t)
	quiet, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if s, err := server.AcceptStream(short); err == nil {
		t.Fatalf("server accepted stream %d that was never sent", s.StreamID())
	}
	cs, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Announce(); err != nil {
		t.Fatal(err)
	}
	ss, err := server.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Stream IDs open in order: announcing the second opens the first too.
	if ss.StreamID() != quiet.StreamID() {
		t.Fatalf("accepted stream %d, want %d", ss.StreamID(), quiet.StreamID())
	}
	ss, err = server.AcceptStream(ctx)
	if err != nil || ss.StreamID() != cs.StreamID() {
		t.Fatalf("accepted %v, %v; want stream %d", ss, err, cs.StreamID())
	}
	if _, err := ss.Write([]byte("fan-out")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	cs.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(cs, buf); err != nil || string(buf) != "fan-out" {
		t.Fatalf("client read %q, %v", buf, err)
	}
	client.Close(0, "")
	<-client.Done()
	if err := cs.Announce(); err == nil {
		t.Fatal("Announce on a closed connection succeeded")
	}
}
