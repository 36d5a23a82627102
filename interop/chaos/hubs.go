//go:build linux

package chaos

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/interop/natlab"
)

// HubKind is the hub implementation under test.
type HubKind string

const (
	IrohHub HubKind = "iroh" // real iroh (interop/node/hub.mjs)
	GoHub   HubKind = "go"   // irohspoke hub
)

// HubPort is the UDP port the hub binds, so a restarted hub is found at
// the address the spokes were given.
const HubPort = 4433

// Hub is a hub that can be killed and started again with the same key on
// the same address.
type Hub struct {
	Kind HubKind
	ID   string // EndpointId, hex

	host      *natlab.Host
	relayURL  string
	secretHex string
	kill      func()
}

// StartHub starts a hub of kind on h, online at relayURL, with a fresh key.
func StartHub(t testing.TB, kind HubKind, h *natlab.Host, relayURL string) *Hub {
	t.Helper()
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		t.Fatal(err)
	}
	hub := &Hub{Kind: kind, host: h, relayURL: relayURL, secretHex: hex.EncodeToString(secret[:])}
	hub.Restart(t)
	return hub
}

// Restart starts the hub (again) and returns once it is ready.
func (h *Hub) Restart(t testing.TB) {
	t.Helper()
	bind := fmt.Sprintf("0.0.0.0:%d", HubPort)
	var id string
	switch h.Kind {
	case IrohHub:
		p := interop.StartHub(t, interop.HubOptions{Netns: h.host.Netns, Bind: bind, SecretHex: h.secretHex, RelayURL: h.relayURL})
		id, h.kill = p.EndpointID, p.Kill
	case GoHub:
		// --listen given again overrides StartGoHubWith's port 0.
		p := h.host.StartGoHubWith(t, h.relayURL, "--listen", bind, "--secret-hex", h.secretHex)
		id, h.kill = p.EndpointID, p.Kill
	default:
		t.Fatalf("chaos: unknown hub kind %q", h.Kind)
	}
	if h.ID != "" && id != h.ID {
		t.Fatalf("chaos: restarted %s hub is %s, was %s", h.Kind, id, h.ID)
	}
	h.ID = id
}

// Kill ends the hub with SIGKILL: no CONNECTION_CLOSE, no goodbye.
func (h *Hub) Kill() { h.kill() }

// Addr is where spokes reach the hub directly.
func (h *Hub) Addr() string { return h.host.AddrPort(HubPort).String() }
