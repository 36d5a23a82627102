package main

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alkdev/irohspoke/relay"
)

// TestHubAndDialThroughRelay: "irohspoke hub --relay" stays online at our
// relay, and "irohspoke dial --relay" reaches it knowing only its id.
func TestHubAndDialThroughRelay(t *testing.T) {
	srv := relay.NewServer(relay.ServerConfig{})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); ts.Close() })
	url := ts.URL + "/"
	h := startCLIHub(t, "--listen", "127.0.0.1:0", "--relay", url)
	if *h.RelayURL != url {
		t.Fatalf("hub relayUrl %q, want %q", *h.RelayURL, url)
	}
	r := cli(t, `{"type":"viaRelay","id":"1","payload":[1,2]}`, "dial", "--preset", "minimal", "--hub", h.EndpointID, "--relay", url, "--linger", "1s")
	if r.code != exitOK || r.stdout != `{"type":"viaRelay.echo","id":"1","payload":[1,2]}`+"\n" {
		t.Fatalf("dial via relay: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, `"path":"relay"`) {
		t.Errorf("status lines do not report the relay path: %s", r.stderr)
	}
}
