package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
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
	line := startCLI(t, "lookup-server", args...)
	var r lookupReady
	if err := json.Unmarshal([]byte(line), &r); err != nil || r.Pkarr == "" || r.DNS == nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	return r
}

// TestDialByIDViaLookupServer: "hub --pkarr URL --publish" publishes to
// "lookup-server", and "dial --hub ID" finds it with --pkarr or --dns.
func TestDialByIDViaLookupServer(t *testing.T) {
	srv := relay.NewServer(relay.ServerConfig{})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); ts.Close() })
	ls := startLookupServer(t, "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--origin", "dns.test")
	h := startCLIHub(t, "--listen", "127.0.0.1:0", "--relay", ts.URL, "--pkarr", ls.Pkarr, "--publish", "--publish-addrs")

	id, err := identity.ParseEndpointID(h.EndpointID)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := (&addrlookup.PkarrResolver{BaseURL: ls.Pkarr}).Resolve(context.Background(), id)
		if err == nil && len(info.Relays) == 1 && len(info.Addrs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub not published: %+v %v", info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The DNS port also answers over TCP, where iroh retries truncated answers.
	q := &addrlookup.Message{ID: 7, Questions: []addrlookup.Question{{Name: addrlookup.DNSName(id, "dns.test."), Type: addrlookup.TypeTXT, Class: addrlookup.ClassIN}}}
	if ans := tcpDNS(t, *ls.DNS, q); ans.ID != 7 || len(ans.Answers) == 0 {
		t.Fatalf("DNS over TCP: %+v", ans)
	}
	for _, how := range [][]string{{"--pkarr", ls.Pkarr}, {"--dns", *ls.DNS, "--dns-origin", "dns.test."}} {
		args := append([]string{"dial", "--preset", "minimal", "--hub", h.EndpointID, "--linger", "1s"}, how...)
		r := cli(t, `{"type":"found","id":"1","payload":null}`, args...)
		if r.code != exitOK || r.stdout != `{"type":"found.echo","id":"1","payload":null}`+"\n" {
			t.Fatalf("dial %v: exit %d, stdout %q, stderr %s", how, r.code, r.stdout, r.stderr)
		}
	}
}

// tcpDNS sends q to addr over TCP (RFC 7766 framing) and parses the answer.
func tcpDNS(t *testing.T, addr string, q *addrlookup.Message) *addrlookup.Message {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)); err != nil {
		t.Fatal(err)
	}
	var n [2]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		t.Fatal(err)
	}
	resp := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(c, resp); err != nil {
		t.Fatal(err)
	}
	m, err := addrlookup.ParseMessage(resp)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLookupServerOrigin: an origin under which iroh's names cannot fit,
// or that is no DNS name, is refused before anything starts.
func TestLookupServerOrigin(t *testing.T) {
	for _, origin := range []string{strings.Repeat("a", 64) + ".org", strings.Repeat("abcdefghi.", 20) + "org", "bad name.org", "a..b"} {
		args := []string{"lookup-server", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--origin", origin}
		wantError(t, cli(t, "", args...), exitUsage, "irohspoke: lookup-server: ", "invalid --origin", args...)
	}
}
