package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/quic/qadtest"
)

func TestRelayQADNeedsTLS(t *testing.T) {
	args := []string{"relay", "--listen", "127.0.0.1:0", "--qad", "127.0.0.1:0"}
	wantError(t, cli(t, "", args...), exitUsage, "irohspoke: relay:", "--qad needs --tls-cert", args...)
}

// TestRelayServesQAD: with --qad the ready line names the QAD address,
// and a QUIC client learns its own socket address there.
func TestRelayServesQAD(t *testing.T) {
	ca, err := qadtest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := ca.WritePEM(t.TempDir(), "relay.test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		done <- run(ctx, []string{"relay", "--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile, "--qad", "127.0.0.1:0"}, strings.NewReader(""), pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line: %v (stderr %q)", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	var ready struct{ RelayURL, QADAddr string }
	if err := json.Unmarshal([]byte(line), &ready); err != nil || !strings.HasPrefix(ready.RelayURL, "https://") {
		t.Fatalf("ready line %q: %v", line, err)
	}
	qadAP, err := netip.ParseAddrPort(ready.QADAddr)
	if err != nil {
		t.Fatalf("qadAddr in %q: %v", line, err)
	}
	tr, err := quic.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ep, err := quic.NewEndpoint(tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
	defer dcancel()
	got, c, err := ep.DialAddressDiscovery(dctx, qadAP, "relay.test", ca.Roots)
	if err != nil {
		t.Fatal(err)
	}
	if want := netip.MustParseAddrPort(ep.LocalAddr().String()); got != want {
		t.Fatalf("observed %v, want %v", got, want)
	}
	c.Close(quic.QADCloseCode, quic.QADCloseReason)
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d, stderr %q", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("relay did not shut down")
	}
}
