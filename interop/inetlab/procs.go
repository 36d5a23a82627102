//go:build linux

package inetlab

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
)

const readyTimeout = 20 * time.Second

// Env is the environment every irohspoke process in the lab gets: the
// lab CA as the only trusted root source, and iroh's staging switch off.
// Later entries (a test's own) override these.
func (l *Lab) Env() []string {
	return []string{
		"SSL_CERT_FILE=" + l.certs.caFile,
		"SSL_CERT_DIR=" + l.certs.dir,
		EnvForceStaging + "=",
	}
}

// Start runs "irohspoke args..." on h with the lab's environment plus env.
func (l *Lab) Start(t testing.TB, h *natlab.Host, env []string, args ...string) *natlab.Proc {
	t.Helper()
	// env(1) sets the variables and execs irohspoke, which keeps the
	// death signal ip netns exec was started with.
	argv := append(append(l.Env(), env...), natlab.Irohspoke(t))
	return h.Start(t, "env", append(argv, args...)...)
}

// waitReady decodes p's first stdout line into v (any JSON if v is nil).
func waitReady(t testing.TB, p *natlab.Proc, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if v == nil {
		v = &json.RawMessage{}
	}
	if err := p.JSONLine(ctx, v); err != nil {
		t.Fatal(err)
	}
}

// Hub is a running "irohspoke hub".
type Hub struct {
	EndpointID string
	RelayURL   string // home relay in the ready line, "" if none
	Addrs      []string
	Ticket     string
	Started    time.Time
	Ready      time.Duration // from start to the ready line
	*natlab.Proc
}

// StartHub runs "irohspoke hub args..." on h and waits for its ready line.
func (l *Lab) StartHub(t testing.TB, h *natlab.Host, env []string, args ...string) *Hub {
	t.Helper()
	start := time.Now()
	p := l.Start(t, h, env, append([]string{"hub"}, args...)...)
	var ready struct {
		EndpointID string   `json:"endpointId"`
		Addrs      []string `json:"addrs"`
		RelayURL   *string  `json:"relayUrl"`
		Ticket     string   `json:"ticket"`
	}
	waitReady(t, p, &ready)
	if ready.EndpointID == "" {
		t.Fatalf("inetlab: hub ready line lacks endpointId\n%s", p.Stderr())
	}
	hub := &Hub{EndpointID: ready.EndpointID, Addrs: ready.Addrs, Ticket: ready.Ticket, Started: start, Ready: time.Since(start), Proc: p}
	if ready.RelayURL != nil {
		hub.RelayURL = *ready.RelayURL
	}
	return hub
}

// Envelope is one stdin line for dial: an envelope of type "lab".
func Envelope(id string) string {
	return fmt.Sprintf(`{"type":"lab","id":%q,"payload":{"n":%q}}`+"\n", id, id)
}
