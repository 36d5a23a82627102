package websocket

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// acceptGUID is the fixed suffix of RFC 6455's Sec-WebSocket-Accept hash.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Handshake errors.
var (
	// ErrBadUpgradeRequest: the request is not a valid WebSocket upgrade.
	ErrBadUpgradeRequest = errors.New("websocket: bad upgrade request")
	// ErrBadVersion: Sec-WebSocket-Version is not 13.
	ErrBadVersion = errors.New("websocket: unsupported Sec-WebSocket-Version")
	// ErrNoSubprotocol: no offered subprotocol is acceptable.
	ErrNoSubprotocol = errors.New("websocket: no acceptable subprotocol")
	// ErrBadUpgradeResponse: the server did not switch protocols correctly.
	ErrBadUpgradeResponse = errors.New("websocket: bad upgrade response")
	// ErrHijack: the http.ResponseWriter cannot be hijacked.
	ErrHijack = errors.New("websocket: response writer does not support hijacking")
)

// AcceptKey derives Sec-WebSocket-Accept from Sec-WebSocket-Key.
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// NewKey returns a fresh random Sec-WebSocket-Key.
func NewKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

func validKey(k string) bool {
	b, err := base64.StdEncoding.DecodeString(k)
	return err == nil && len(b) == 16
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// CheckUpgradeRequest validates a server-side upgrade request (method,
// Upgrade/Connection tokens, key, version). It does not look at
// subprotocols.
func CheckUpgradeRequest(r *http.Request) error {
	if r.Method != http.MethodGet || !headerHasToken(r.Header, "Upgrade", "websocket") ||
		!headerHasToken(r.Header, "Connection", "upgrade") || !validKey(r.Header.Get("Sec-WebSocket-Key")) {
		return ErrBadUpgradeRequest
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return ErrBadVersion
	}
	return nil
}

// Upgrade completes a validated upgrade (see CheckUpgradeRequest) by
// hijacking w, answering 101 with exactly one subprotocol, and returning
// the server-side Conn. The caller must have answered the request itself if
// validation failed.
func Upgrade(w http.ResponseWriter, r *http.Request, subprotocol string) (*Conn, error) {
	if subprotocol == "" {
		return nil, ErrNoSubprotocol
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, ErrHijack
	}
	nc, rw, err := hj.Hijack()
	if err != nil {
		return nil, fmt.Errorf("websocket: hijack: %w", err)
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n" +
		"Sec-WebSocket-Protocol: " + subprotocol + "\r\n\r\n"
	// Written straight to the conn: rw.Writer may be sized for HTTP bodies.
	if _, err := nc.Write([]byte(resp)); err != nil {
		nc.Close()
		return nil, err
	}
	return NewConn(nc, rw.Reader, ServerRole), nil
}

// ClientRequest describes a client-side upgrade.
type ClientRequest struct {
	Host         string      // Host header (authority)
	Path         string      // request target, e.g. "/relay" or "/relay?x=y"
	Subprotocols string      // Sec-WebSocket-Protocol offer line
	Header       http.Header // extra headers (Authorization, ...)
}

// ClientHandshake sends the upgrade request over nc and checks the
// response: 101, Upgrade/Connection, the accept key, and exactly one
// subprotocol, which it returns. A non-101 response is reported as an
// *UnexpectedStatusError.
func ClientHandshake(nc net.Conn, req ClientRequest) (*Conn, string, error) {
	key := NewKey()
	var sb strings.Builder
	fmt.Fprintf(&sb, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", req.Path, req.Host)
	fmt.Fprintf(&sb, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key)
	if req.Subprotocols != "" {
		fmt.Fprintf(&sb, "Sec-WebSocket-Protocol: %s\r\n", req.Subprotocols)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			if strings.ContainsAny(k+v, "\r\n") {
				return nil, "", ErrBadUpgradeRequest
			}
			fmt.Fprintf(&sb, "%s: %s\r\n", k, v)
		}
	}
	sb.WriteString("\r\n")
	if _, err := nc.Write([]byte(sb.String())); err != nil {
		return nil, "", err
	}
	resp, br, limit, err := readResponseHead(nc, http.MethodGet)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrBadUpgradeResponse, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		resp.Body.Close() // drains at most what the limit leaves
		return nil, "", &UnexpectedStatusError{Code: resp.StatusCode, Status: resp.Status}
	}
	if !headerHasToken(resp.Header, "Upgrade", "websocket") || !headerHasToken(resp.Header, "Connection", "upgrade") ||
		resp.Header.Get("Sec-WebSocket-Accept") != AcceptKey(key) {
		return nil, "", ErrBadUpgradeResponse
	}
	protos := resp.Header.Values("Sec-WebSocket-Protocol")
	if len(protos) != 1 || strings.Contains(protos[0], ",") {
		return nil, "", ErrNoSubprotocol
	}
	limit.lift() // from here on the reader carries WebSocket frames
	return NewConn(nc, br, ClientRole), strings.TrimSpace(protos[0]), nil
}

// UnexpectedStatusError is a non-101 answer to an upgrade request.
type UnexpectedStatusError struct {
	Code   int
	Status string
}

func (e *UnexpectedStatusError) Error() string {
	return "websocket: upgrade refused: " + e.Status
}
