package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	addrlookup "github.com/alkdev/irohspoke/lookup"
	"github.com/alkdev/irohspoke/relay"
)

type lookupReady struct {
	Pkarr  string  `json:"pkarr"`
	DNS    *string `json:"dns"`
	Origin string  `json:"origin"`
}

func startLookupServer(t *testing.T, args ...string) lookupReady {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"lookup-server"}, args...), strings.NewReader(""), pw, &stderr)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("lookup-server exited %d: %s", code, stderr.String())
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line: %v (%s)", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	var r lookupReady
	if err := json.Unmarshal([]byte(line), &r); err != nil || r.Pkarr == "" || r.DNS == nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	return r
}

// TestDialByIDViaLookupServer: "hub --publish-pkarr" publishes to
// "lookup-server", and "dial --hub ID" finds it with --pkarr or --dns.
func TestDialByIDViaLookupServer(t *testing.T) {
	srv := relay.NewServer(relay.ServerConfig{})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); ts.Close() })
	ls := startLookupServer(t, "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--origin", "dns.test")
	h := startCLIHub(t, "--listen", "127.0.0.1:0", "--relay", ts.URL, "--publish-pkarr", ls.Pkarr)

	id, err := identity.ParseEndpointID(h.EndpointID)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := (&addrlookup.PkarrResolver{BaseURL: ls.Pkarr}).Resolve(context.Background(), id)
		if err == nil && len(info.RelayURLs) == 1 && len(info.Addrs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub not published: %+v %v", info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, how := range [][]string{{"--pkarr", ls.Pkarr}, {"--dns", *ls.DNS, "--dns-origin", "dns.test."}} {
		args := append([]string{"dial", "--hub", h.EndpointID, "--linger", "1s"}, how...)
		r := cli(t, `{"type":"found","id":"1","payload":null}`, args...)
		if r.code != exitOK || r.stdout != `{"type":"found.echo","id":"1","payload":null}`+"\n" {
			t.Fatalf("dial %v: exit %d, stdout %q, stderr %s", how, r.code, r.stdout, r.stderr)
		}
	}
	if r := cli(t, "", "dial", "--hub", h.EndpointID, "--dns-origin", "x."); r.code != exitUsage {
		t.Fatalf("--dns-origin without --dns: exit %d", r.code)
	}
}
