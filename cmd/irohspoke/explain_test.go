package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/relay"
)

// TestExplainRelayCauses: each way a relay can be unreachable gets its
// kind and a hint, with the message starting at the relay; cases that a
// loopback test cannot produce (a proxy's 502: Go never proxies loopback)
// are built as the endpoint wraps them.
func TestExplainRelayCauses(t *testing.T) {
	const url = "https://relay.test/"
	wrap := func(cause error) error {
		return fmt.Errorf("spoke: dial hub 197f6b23e1: endpoint: dial 197f6b23e1: relay: %w: %s: %w", endpoint.ErrRelayUnreachable, url, cause)
	}
	cases := []struct {
		cause      error
		kind, hint string
	}{
		{fmt.Errorf("%w: 502 Bad Gateway", relay.ErrProxy), kindRelayProxy, "PROXY"},
		{&relay.DeniedError{Reason: "no token"}, kindRelayDenied, "--relay-token-file"},
		{&net.DNSError{Err: "no such host", Name: "relay.test", IsNotFound: true}, kindRelayDNS, ""},
		{errors.New("EOF"), kindRelay, ""},
	}
	x := &explainer{}
	for _, c := range cases {
		e := x.explain(wrap(c.cause))
		if e.kind != c.kind || !strings.HasPrefix(e.msg, "relay unreachable: "+url) || !strings.Contains(e.hint, c.hint) {
			t.Errorf("%v: kind %q msg %q hint %q; want kind %q, hint with %q", c.cause, e.kind, e.msg, e.hint, c.kind, c.hint)
		}
	}
}
