package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/identity"
	addrlookup "github.com/alkdev/irohspoke/lookup"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

// Error kinds of the final {"event":"error"} line and of dial_failed
// status lines, so that scripts can tell causes apart.
const (
	kindRuntime      = "runtime"
	kindWrongKey     = "wrong_key"
	kindALPN         = "alpn"
	kindTLS          = "tls"
	kindTimeout      = "timeout"
	kindRelayRefused = "relay_refused"
	kindRelayTLS     = "relay_tls"
	kindRelayProxy   = "relay_proxy"
	kindRelayDenied  = "relay_denied"
	kindRelayDNS     = "relay_dns"
	kindRelay        = "relay"
	kindNotFound     = "not_found"
	kindLookup       = "lookup"
	kindLost         = "lost"
)

// explained is an error in plain words, with a kind and, where a setting
// is the likely cause, a hint.
type explained struct {
	kind, msg, hint string
	err             error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// explainer puts the errors of a dial into one line each.
type explainer struct {
	hub     identity.EndpointID
	alpn    string
	lookup  string        // where address lookup asks, for hints ("" without)
	timeout time.Duration // of one dial attempt
}

// explain classifies err. The first cause found wins, in the order of how
// much it tells: a lookup failure, a wrong key or ALPN, a relay that
// could not be reached, a timeout.
func (x *explainer) explain(err error) *explained {
	var ex *explained
	if errors.As(err, &ex) {
		return ex
	}
	var te *quic.TransportError
	alert, isAlert := uint8(0), false
	if errors.As(err, &te) {
		alert, isAlert = te.TLSAlert()
	}
	switch {
	case errors.Is(err, addrlookup.ErrNotFound):
		return &explained{kind: kindNotFound, err: err,
			msg:  fmt.Sprintf("hub %s is not published at %s", x.hub.Short(), x.lookup),
			hint: "is the hub online and publishing there? A private zone needs --dns-origin"}
	case errors.Is(err, addrlookup.ErrRefused):
		return &explained{kind: kindLookup, err: err,
			msg:  fmt.Sprintf("looking up hub %s: the DNS server refused the query under %s", x.hub.Short(), x.lookup),
			hint: "that server does not serve the zone: check --dns and --dns-origin"}
	case errors.Is(err, endpoint.ErrWrongPeerKey) || isAlert && alert == 48 && !te.Remote:
		return &explained{kind: kindWrongKey, err: err,
			msg:  fmt.Sprintf("wrong hub key: the endpoint that answered is not %s", x.hub.Short()),
			hint: "check --hub (or the ticket)"}
	case isAlert && alert == 120:
		return &explained{kind: kindALPN, err: err, msg: fmt.Sprintf("the hub does not speak %s", x.alpn)}
	case isAlert:
		return &explained{kind: kindTLS, err: err, msg: "TLS handshake with the hub failed: " + describe(err)}
	case errors.Is(err, endpoint.ErrRelayUnreachable):
		return explainRelay(err)
	case errors.Is(err, quic.ErrHandshakeTimeout), errors.Is(err, context.DeadlineExceeded):
		return &explained{kind: kindTimeout, err: err,
			msg:  fmt.Sprintf("no answer from hub %s within %v (%s)", x.hub.Short(), x.timeout, x.paths(err)),
			hint: "is the hub running, and reachable at that address or relay?"}
	}
	return &explained{kind: kindRuntime, msg: x.paths(err), err: err}
}

// paths drops the "dial hub X: dial X: " prefixes of a dial error, which
// repeat the hub id, and keeps what each path said.
func (x *explainer) paths(err error) string {
	s := describe(err)
	for _, p := range []string{"dial hub " + x.hub.Short() + ": ", "dial " + x.hub.Short() + ": "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

// explainRelay names what went wrong on the way to a relay.
func explainRelay(err error) *explained {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	msg := describe(err)
	if i := strings.Index(msg, "relay unreachable: "); i >= 0 {
		msg = msg[i:] // the dial's prefixes only repeat the hub id
	}
	e := &explained{kind: kindRelay, err: err, msg: msg}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		e.kind = kindRelayRefused
		e.hint = "is the relay running at that URL's host and port?"
	case errors.Is(err, relay.ErrProxy):
		e.kind, e.hint = kindRelayProxy, "check HTTPS_PROXY / HTTP_PROXY"
	case errors.Is(err, relay.ErrDenied):
		e.kind, e.hint = kindRelayDenied, "does the relay need a token (--relay-token-file)?"
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), strings.Contains(err.Error(), "relay: TLS"):
		e.kind, e.hint = kindRelayTLS, "a private relay CA goes in --relay-ca FILE"
	case errors.As(err, &dnsErr):
		e.kind = kindRelayDNS
	}
	return e
}

// describe drops the package prefixes of library errors ("spoke: dial
// hub X: endpoint: ..."), which only repeat what the command says.
func describe(err error) string {
	s := err.Error()
	for _, p := range []string{"spoke: ", "endpoint: ", "identity: ", "lookup: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return s
}
