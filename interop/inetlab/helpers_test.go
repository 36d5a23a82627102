//go:build linux

package inetlab_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop/inetlab"
)

// stepTimeout bounds each waiting step of a scenario.
const stepTimeout = 25 * time.Second

func stepCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	t.Cleanup(cancel)
	return ctx
}

// ids are n envelope ids "<name>-<i>" starting at from.
func ids(name string, from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", name, from+i)
	}
	return out
}

// echoRound sends envelopes and waits for their echoes.
func echoRound(ctx context.Context, t *testing.T, d *inetlab.Dial, ids []string) {
	t.Helper()
	if err := d.Send(ids...); err != nil {
		t.Fatal(err)
	}
	if err := d.ReadEchoes(ctx, ids...); err != nil {
		t.Fatalf("%v\ndial stderr:\n%s", err, d.Stderr())
	}
}

func mustID(t *testing.T, s string) identity.EndpointID {
	t.Helper()
	id, err := identity.ParseEndpointID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// sameRelay compares relay URLs ignoring the trailing slash and dot.
func sameRelay(a, b string) bool {
	norm := func(u string) string { return strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".") }
	return norm(a) == norm(b)
}

// relayHostOf is the relay name of a URL such as
// https://use1-1.relay.n0.iroh.link./.
func relayHostOf(url string) string {
	h := strings.TrimPrefix(strings.TrimPrefix(url, "https://"), "http://")
	h, _, _ = strings.Cut(h, "/")
	return strings.TrimSuffix(h, ".")
}

// hubSince is the time since the hub process started.
func hubSince(h *inetlab.Hub) time.Duration { return time.Since(h.Started) }
