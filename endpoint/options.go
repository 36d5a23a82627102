package endpoint

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/lookup"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

// Defaults for zero Options fields.
const (
	// DefaultBindAddr listens on every IPv4 interface. Pass "[::]:0" for a
	// dual-stack socket that reaches IPv6 peers as well.
	DefaultBindAddr = "0.0.0.0:0"
	// DefaultRelayHeadStart is how long a direct dial runs alone before the
	// relay dial joins the race.
	DefaultRelayHeadStart = 250 * time.Millisecond
	// DefaultRelayBackoffMax caps the wait between relay reconnect attempts.
	// It is shorter than the relay package's 16 s so that a relay outage
	// heals well within QUIC's 30 s idle timeout.
	DefaultRelayBackoffMax = 2 * time.Second
	// maxDirectDials caps the direct addresses raced in one Dial.
	maxDirectDials = 4
)

// Errors returned by Bind, Dial and the transport.
var (
	// ErrClosed: the endpoint was closed.
	ErrClosed = errors.New("endpoint: closed")
	// ErrNoPath: the target has neither a direct address nor a relay URL.
	ErrNoPath = errors.New("endpoint: target has no direct address and no relay URL")
	// ErrNoHomeRelay: the endpoint was bound without a home relay.
	ErrNoHomeRelay = errors.New("endpoint: no home relay configured")
	// ErrBadBindAddr: Options.BindAddr is not a UDP IP:port.
	ErrBadBindAddr = errors.New("endpoint: bind address must be IP:port")
)

// Options configure Bind. The zero value gives an ephemeral identity, a UDP
// socket on every IPv4 interface, no relay and a client-only endpoint.
type Options struct {
	// SecretKey is the endpoint's identity; zero generates an ephemeral key.
	SecretKey identity.SecretKey
	// BindAddr is the UDP socket's IP:port (DefaultBindAddr if empty).
	BindAddr string
	// RelayURL is the home relay: the endpoint stays logged in there so
	// that peers can reach it by EndpointId. Empty means none.
	RelayURL string
	// RelayToken is an optional bearer token for relays that require one.
	RelayToken string
	// RelayTLS is used for https relays; nil means the system roots plus
	// the relay package's fallback roots.
	RelayTLS *tls.Config
	// RelayBackoffMax caps the relay reconnect backoff
	// (DefaultRelayBackoffMax if zero).
	RelayBackoffMax time.Duration
	// RelayHeadStart delays the relay dial when direct addresses exist
	// (DefaultRelayHeadStart if zero; negative races both at once).
	RelayHeadStart time.Duration
	// ALPNs are the protocols Accept accepts; empty makes a client-only
	// endpoint.
	ALPNs []string
	// QUIC overrides QUIC settings; its SecretKey, ALPNs and Logger are
	// replaced by the fields above.
	QUIC *quic.Config
	// OnRelayStatus, if set, is called on every status change of every
	// relay client, from that client's goroutine; it must not block.
	OnRelayStatus func(url string, st relay.Status)
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Lookup, if set, finds a peer's relay URL and direct addresses when
	// Dial gets a Target with neither (iroh's address lookup), e.g. a
	// lookup.Resolvers of a PkarrResolver and a DNSResolver.
	Lookup lookup.Resolver
	// Publisher, if set, is given this endpoint's home relay (and, with
	// PublishAddrs, its direct addresses) at Bind; the endpoint closes it
	// on Close. iroh's default publishes the relay only.
	Publisher    lookup.Publisher
	PublishAddrs bool
	// DisableMultipath turns off what the zero value does, as iroh does:
	// negotiating QUIC multipath and n0 NAT traversal with peers that offer
	// them (iroh does), so that a connection that started on a relay moves
	// to a direct path once hole punching opens one (see the package
	// documentation). With it set, connections stay on the path their
	// handshake completed on (Options.QUIC's Multipath fields are then
	// left as given).
	DisableMultipath bool
	// RelayQAD turns on QUIC Address Discovery (QAD) against the home
	// relay, as iroh does: after Bind the endpoint dials the relay's QAD
	// endpoint from its own UDP socket, keeps that connection open and
	// records the public address the relay sees (PublicAddr, QADStatus).
	// With multipath on, that address joins our hole-punching candidates
	// (client rounds and server announcements), and a change of it starts
	// a new round or updates the announcements; behind an
	// endpoint-independent NAT this lets two NATed peers go direct. The
	// relay's certificate is verified with WebPKI rules for the relay
	// URL's host against RelayTLS.RootCAs (relay.DefaultRoots if nil), so
	// the relay must serve QAD with a certificate for that name (iroh
	// relays use their HTTPS one). Needs RelayURL.
	RelayQAD bool
	// RelayQADPort is the UDP port of the home relay's QAD endpoint on
	// the relay URL's host (quic.DefaultQADPort, 7842, if zero; iroh's
	// relay configuration carries it next to the URL).
	RelayQADPort uint16
}

func (o *Options) relayHeadStart() time.Duration {
	switch {
	case o.RelayHeadStart < 0:
		return 0
	case o.RelayHeadStart == 0:
		return DefaultRelayHeadStart
	}
	return o.RelayHeadStart
}

func (o *Options) relayBackoffMax() time.Duration {
	if o.RelayBackoffMax > 0 {
		return o.RelayBackoffMax
	}
	return DefaultRelayBackoffMax
}
