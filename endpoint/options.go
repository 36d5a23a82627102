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
	// DefaultBindAddr listens on every IPv4 interface (presets without
	// DualStack). Pass "[::]:0" for a dual-stack socket that reaches IPv6
	// peers as well.
	DefaultBindAddr = "0.0.0.0:0"
	// DualStackBindAddr is the bind address of DualStack presets, and
	// dualStackFallback what they bind where IPv6 is unavailable.
	DualStackBindAddr = "[::]:0"
	dualStackFallback = "0.0.0.0:0"
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
	// ErrNoPath: the target has neither a direct address nor a relay URL
	// (and lookup found none or is off).
	ErrNoPath = errors.New("endpoint: target has no direct address and no relay URL")
	// ErrWrongPeerKey: the peer proved another key than the dialed
	// EndpointId (TLS alert 48); the error also unwraps to the
	// *quic.TransportError.
	ErrWrongPeerKey = errors.New("endpoint: the peer's key is not the dialed EndpointId")
	// ErrRelayUnreachable: a relay path failed because we could not
	// connect to the relay; the error names the relay and says why
	// (refused, TLS, proxy status, DNS, login denied).
	ErrRelayUnreachable = errors.New("endpoint: relay unreachable")
	// ErrNoHomeRelay: the endpoint was bound without a home relay.
	ErrNoHomeRelay = errors.New("endpoint: no home relay configured")
	// ErrBadBindAddr: Options.BindAddr is not a UDP IP:port.
	ErrBadBindAddr = errors.New("endpoint: bind address must be IP:port")
)

// Options configure Bind. The zero value gives an ephemeral identity, a UDP
// socket on every IPv4 interface, no relay and a client-only endpoint (the
// Minimal preset). Set Preset to N0() for iroh's defaults: relays, lookup
// and publishing. The other fields override parts of the preset.
type Options struct {
	// Preset supplies the relay map, lookup, publishing, QAD and socket
	// defaults; the zero value is Minimal. Fields below override it:
	// RelayURL pins the home relay, Lookup and Publisher replace the
	// preset's, BindAddr replaces its socket.
	Preset Preset
	// SecretKey is the endpoint's identity; zero generates an ephemeral key.
	SecretKey identity.SecretKey
	// BindAddr is the UDP socket's IP:port; if empty, DualStackBindAddr
	// for a DualStack preset, else DefaultBindAddr.
	BindAddr string
	// RelayURL pins the home relay: the endpoint stays logged in there so
	// that peers can reach it by EndpointId, and the preset's relay map is
	// not used. Empty: the home relay is chosen from Preset.Relays.
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
	// OnNetReport, if set, is called after every relay latency report and
	// every change of the home relay (failover included), with the
	// state NetReport returns; it must not block. For a pinned or only
	// relay it is called once, before Bind returns.
	OnNetReport func(NetReport)
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Lookup, if set, finds a peer's relay URL and direct addresses when
	// Dial gets an address with neither (iroh's address lookup), e.g. a
	// lookup.Resolvers of a PkarrResolver and a DNSResolver. It replaces
	// the preset's DNS lookup.
	Lookup lookup.Resolver
	// Publisher, if set, is given this endpoint's home relay (and, with
	// PublishAddrs, its direct addresses) at Bind and whenever the home
	// relay changes; the endpoint closes it on Close. It replaces the
	// preset's pkarr publisher. iroh's default publishes the relay only.
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
	// relay, as Preset.QAD does: after Bind the endpoint dials the relay's QAD
	// endpoint from its own UDP socket, keeps that connection open and
	// records the public address the relay sees (PublicAddr, QADStatus).
	// With multipath on, that address joins our hole-punching candidates
	// (client rounds and server announcements), and a change of it starts
	// a new round or updates the announcements; behind an
	// endpoint-independent NAT this lets two NATed peers go direct. The
	// relay's certificate is verified with WebPKI rules for the relay
	// URL's host against RelayTLS.RootCAs (relay.DefaultRoots if nil), so
	// the relay must serve QAD with a certificate for that name (iroh
	// relays use their HTTPS one). Needs a relay (RelayURL or the preset's).
	RelayQAD bool
	// RelayQADPort is the UDP port of the pinned RelayURL's QAD endpoint
	// (the matching preset relay's QADPort, else quic.DefaultQADPort,
	// 7842, if zero).
	RelayQADPort uint16
	// DisablePortMapping turns off the preset's port mapping
	// (Preset.PortMapping, on in N0): no PCP, NAT-PMP or UPnP request
	// ever leaves the endpoint. A socket bound to loopback never maps.
	DisablePortMapping bool
	// DisableNetworkMonitor stops the endpoint from watching the
	// interfaces, addresses and routes itself (iroh always does). The
	// application may then call NetworkChanged.
	DisableNetworkMonitor bool

	// Test hooks: noNatTraversal negotiates multipath without hole
	// punching (connections move between relay paths only); dnsNameserver
	// replaces the system's nameservers in the preset's DNS lookup.
	noNatTraversal bool
	dnsNameserver  string
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
