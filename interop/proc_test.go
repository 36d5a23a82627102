package interop

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// feed writes data to a fresh queue in chunks of the given sizes (cycled)
// and returns every line it yields.
func feed(t *testing.T, data []byte, chunks []byte) [][]byte {
	t.Helper()
	q := newLineQueue()
	for i := 0; len(data) > 0; i++ {
		n := 1
		if len(chunks) > 0 {
			n = int(chunks[i%len(chunks)])%7 + 1
		}
		n = min(n, len(data))
		if _, err := q.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
	q.close()
	var lines [][]byte
	for {
		l, err := q.next(context.Background())
		if errors.Is(err, ErrProcessExited) {
			return lines
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
}

func TestLineQueueSplitsAcrossWrites(t *testing.T) {
	got := feed(t, []byte("one\r\ntwo\n\nthree"), []byte{2, 0, 5})
	want := []string{"one", "two", "", "three"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Fatalf("line %d: %q, want %q", i, got[i], want[i])
		}
	}
}

func TestLineQueueNextTimesOut(t *testing.T) {
	q := newLineQueue()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := q.next(ctx); !errors.Is(err, ErrTimeout) {
		t.Fatalf("next on an idle queue: %v, want ErrTimeout", err)
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		_, _ = q.Write([]byte("late\n"))
	}()
	l, err := q.next(context.Background())
	if err != nil || string(l) != "late" {
		t.Fatalf("next: %q, %v", l, err)
	}
}

func FuzzLineQueue(f *testing.F) {
	f.Add([]byte("a\nb\n"), []byte{1})
	f.Add([]byte("\r\n\r\n"), []byte{3, 1})
	f.Add([]byte("no newline"), []byte{})
	f.Add([]byte(`{"event":"frame"}`+"\n"), []byte{6, 6, 6})
	f.Fuzz(func(t *testing.T, data, chunks []byte) {
		got := feed(t, data, chunks)
		// Lines are the input split at \n, minus one trailing \r each; an
		// empty tail after the last \n is not a line.
		parts := bytes.Split(data, []byte("\n"))
		if len(parts[len(parts)-1]) == 0 {
			parts = parts[:len(parts)-1]
		}
		if len(got) != len(parts) {
			t.Fatalf("%d lines, want %d", len(got), len(parts))
		}
		for i, p := range parts {
			if i < len(parts)-1 || bytes.HasSuffix(data, []byte("\n")) {
				p = bytes.TrimSuffix(p, []byte("\r"))
			}
			if !bytes.Equal(got[i], p) {
				t.Fatalf("line %d: %q, want %q", i, got[i], p)
			}
		}
	})
}

func TestParseReady(t *testing.T) {
	var h Hub
	line := `{"endpointId":"2d4b","addrs":["127.0.0.1:41488","[::1]:33101"],"relayUrl":null,"ticket":"endpointaa"}`
	if err := h.parseReady([]byte(line)); err != nil {
		t.Fatal(err)
	}
	want := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:41488"), netip.MustParseAddrPort("[::1]:33101")}
	if h.EndpointID != "2d4b" || h.Ticket != "endpointaa" || h.RelayURL != "" || !slices.Equal(h.Addrs, want) {
		t.Fatalf("parsed id %q ticket %q relay %q addrs %v", h.EndpointID, h.Ticket, h.RelayURL, h.Addrs)
	}
	for _, bad := range []string{
		``, `null`, `{}`, `{"endpointId":"x"}`, `{"endpointId":"x","ticket":"t","addrs":["nope"]}`,
		`{"endpointId":"x","ticket":"t","addrs":[1]}`,
	} {
		var h Hub
		if err := h.parseReady([]byte(bad)); err == nil {
			t.Errorf("parseReady(%q) accepted: id %q", bad, h.EndpointID)
		}
	}
}

func FuzzParseReady(f *testing.F) {
	f.Add([]byte(`{"endpointId":"a","addrs":["127.0.0.1:1","[::1]:2"],"relayUrl":"http://r/","ticket":"endpointx"}`))
	f.Add([]byte(`{"endpointId":"a","addrs":[],"relayUrl":null,"ticket":"t"}`))
	f.Add([]byte(`{"addrs":["[fe80::1%eth0]:1"]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var h Hub
		if err := h.parseReady(line); err != nil {
			return
		}
		if h.EndpointID == "" || h.Ticket == "" {
			t.Fatalf("accepted a ready line without id or ticket: %q", line)
		}
		for _, a := range h.Addrs {
			if !a.IsValid() {
				t.Fatalf("invalid address accepted from %q", line)
			}
		}
	})
}

func TestSpokeArgs(t *testing.T) {
	o := SpokeOptions{
		ID: "abc", Addrs: []netip.AddrPort{netip.MustParseAddrPort("[::1]:5")}, Count: 2,
		SendRaw: [][]byte{[]byte("x")}, Oversize: true, PrintSent: true, Linger: 1500 * time.Millisecond,
	}
	got := strings.Join(o.args(), " ")
	want := "--id abc --addr [::1]:5 --count 2 --size 0 --expect-broadcasts 0 --linger-ms 1500 --send-raw eA== --print-sent --oversize"
	if got != want {
		t.Fatalf("args\n got %s\nwant %s", got, want)
	}
}

func TestLogBufferCaps(t *testing.T) {
	var b LogBuffer
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	for range 5 {
		if n, err := b.Write(chunk); n != len(chunk) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	s := b.String()
	if !strings.HasSuffix(s, "[... 1048576 bytes dropped]") || len(s) > maxLogBytes+64 {
		t.Fatalf("buffer kept %d bytes, tail %q", len(s), s[len(s)-40:])
	}
}

func TestNodeDirOverride(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvInteropDir, dir)
	if _, err := NodeDir(); !errors.Is(err, ErrNodeDirNotFound) {
		t.Fatalf("empty override dir: %v, want ErrNodeDirNotFound", err)
	}
	t.Setenv(EnvInteropDir, "")
	d, err := NodeDir()
	if err != nil || !strings.HasSuffix(d, "/interop/node") {
		t.Fatalf("NodeDir from the module: %q, %v", d, err)
	}
}
