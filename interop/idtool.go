package interop

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"
)

const idToolReplyTimeout = 10 * time.Second

// RejectedError is iroh refusing an input (a bad id, a bad ticket...), as
// opposed to the tool itself breaking.
type RejectedError struct {
	Op  string
	Msg string
}

func (e *RejectedError) Error() string { return fmt.Sprintf("iroh rejected %s: %s", e.Op, e.Msg) }

// TicketInfo is an endpoint ticket as iroh sees it.
type TicketInfo struct {
	EndpointID string
	RelayURLs  []string
	Addrs      []netip.AddrPort
	Reencoded  string // iroh's own encoding of the decoded ticket
}

// IDTool talks to interop/node/idtool.mjs, one request at a time.
type IDTool struct {
	mu   sync.Mutex
	proc *nodeProc
}

// StartIDTool starts the identity tool; it is stopped when the test ends.
func StartIDTool(t testing.TB) *IDTool {
	t.Helper()
	return StartIDToolIn(t, "")
}

// StartIDToolIn starts the identity tool inside the named namespace netns
// (as HubOptions.Netns; "" is the current, loopback-only namespace).
func StartIDToolIn(t testing.TB, netns string) *IDTool {
	t.Helper()
	requireSafeTarget(t, netns)
	proc, err := startNode(netns, "idtool.mjs", nil, nil, true)
	if err != nil {
		t.Fatalf("interop: %v", err)
	}
	tool := &IDTool{proc: proc}
	t.Cleanup(func() {
		_ = proc.stdin.Close()
		if _, err := proc.waitExit(2 * time.Second); err != nil {
			proc.kill()
		}
		if t.Failed() {
			t.Logf("idtool stderr:\n%s", proc.stderr.String())
		}
	})
	return tool
}

// call sends one request and decodes the reply into out. iroh-side
// failures come back as *RejectedError.
func (x *IDTool) call(req map[string]any, out any) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := x.proc.stdin.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("interop: idtool write: %w\n%s", err, x.proc.stderr.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), idToolReplyTimeout)
	defer cancel()
	line, err := x.proc.stdout.next(ctx)
	if err != nil {
		return fmt.Errorf("interop: idtool reply: %w\n%s", err, x.proc.stderr.String())
	}
	var status struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(line, &status); err != nil {
		return fmt.Errorf("%w: idtool reply %q: %v", ErrBadOutput, line, err)
	}
	if !status.OK {
		return &RejectedError{Op: fmt.Sprint(req["op"]), Msg: status.Error}
	}
	if err := json.Unmarshal(line, out); err != nil {
		return fmt.Errorf("%w: idtool reply %q: %v", ErrBadOutput, line, err)
	}
	return nil
}

// PublicID returns iroh's EndpointId (hex) for a secret key.
func (x *IDTool) PublicID(secret [32]byte) (string, error) {
	var r struct {
		EndpointID string `json:"endpointId"`
	}
	err := x.call(map[string]any{"op": "pub", "secretHex": hex.EncodeToString(secret[:])}, &r)
	return r.EndpointID, err
}

// ParseID parses s with iroh's EndpointId parser and returns the id as hex.
func (x *IDTool) ParseID(s string) (string, error) {
	var r struct {
		EndpointID string `json:"endpointId"`
	}
	err := x.call(map[string]any{"op": "parse-id", "s": s}, &r)
	return r.EndpointID, err
}

// DecodeTicket parses an endpoint ticket with iroh.
func (x *IDTool) DecodeTicket(ticket string) (TicketInfo, error) {
	var r struct {
		EndpointID string   `json:"endpointId"`
		RelayURLs  []string `json:"relayUrls"`
		Addrs      []string `json:"addrs"`
		Reencoded  string   `json:"reencoded"`
	}
	if err := x.call(map[string]any{"op": "ticket-decode", "ticket": ticket}, &r); err != nil {
		return TicketInfo{}, err
	}
	info := TicketInfo{EndpointID: r.EndpointID, RelayURLs: r.RelayURLs, Reencoded: r.Reencoded}
	for _, a := range r.Addrs {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			return info, fmt.Errorf("%w: iroh ticket address %q: %v", ErrBadOutput, a, err)
		}
		info.Addrs = append(info.Addrs, ap)
	}
	return info, nil
}

// EncodeTicket has iroh build a ticket. The binding's EndpointAddr holds at
// most one relay URL ("" for none).
func (x *IDTool) EncodeTicket(endpointID, relayURL string, addrs []netip.AddrPort) (string, error) {
	req := map[string]any{"op": "ticket-encode", "endpointId": endpointID, "addrs": addrStrings(addrs)}
	if relayURL != "" {
		req["relayUrl"] = relayURL
	}
	var r struct {
		Ticket string `json:"ticket"`
	}
	err := x.call(req, &r)
	return r.Ticket, err
}

func addrStrings(addrs []netip.AddrPort) []string {
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.String())
	}
	return out
}
