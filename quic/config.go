package quic

import (
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic/internal/admission"
	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/handshake"
	"github.com/alkdev/irohspoke/quic/internal/streams"
)

// Defaults for zero Config fields; they follow iroh.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultIdleTimeout      = core.DefaultIdleTimeout
	DefaultKeepAlive        = core.DefaultKeepAlive
	DefaultMaxStreams       = streams.DefaultMaxStreams

	DefaultMaxPendingHandshakes          = admission.DefaultMaxPending
	DefaultMaxPendingHandshakesPerSource = admission.DefaultMaxPendingPerSource
	DefaultRetryAbove                    = admission.DefaultRetryAbove
)

// Config configures an Endpoint. The zero value is usable: an ephemeral
// identity, a client-only endpoint with iroh's timeouts and limits.
type Config struct {
	// SecretKey is our identity; zero generates an ephemeral key.
	SecretKey identity.SecretKey
	// ALPNs are the protocols Accept accepts, in preference order. Empty
	// makes a client-only endpoint that ignores incoming connections.
	ALPNs []string
	// HandshakeTimeout bounds Dial; zero means 10 s.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a silent connection; zero means 30 s, negative
	// disables it (the peer's own limit still applies).
	IdleTimeout time.Duration
	// KeepAlive sends a PING after this much send silence; zero means 5 s,
	// negative disables keep-alives.
	KeepAlive time.Duration
	// MaxIncomingStreams and MaxIncomingUniStreams limit how many streams
	// the peer may have open at once; zero means 100, negative allows
	// none.
	MaxIncomingStreams, MaxIncomingUniStreams int64
	// MaxReceiveWindow caps what one connection may have in flight to us
	// or buffered unread, over all its streams: flow-control windows
	// auto-tune up to it. Zero means 24 MiB (16 MiB per stream).
	MaxReceiveWindow int64
	// MaxPendingHandshakes bounds the incoming handshakes in progress at
	// once (each holds state for up to HandshakeTimeout); further Initials
	// are dropped. Zero means 1024.
	MaxPendingHandshakes int
	// MaxPendingHandshakesPerSource is the same bound per source IP (or
	// relay path); zero means 64.
	MaxPendingHandshakesPerSource int
	// RetryAbove: from this many handshakes in progress on, a client must
	// prove its address with a Retry round trip before it gets any state
	// (RFC 9000 §8.1.2). Zero means 64; negative means always.
	RetryAbove int
	// MaxIncomingConnections bounds the incoming connections held at once,
	// handshaking or established (with MaxReceiveWindow it bounds what
	// peers can make us buffer); further Initials are refused with
	// CONNECTION_REFUSED (rate-limited, no state kept). Zero means no
	// limit.
	MaxIncomingConnections int
	// DisableDatagrams stops us from accepting DATAGRAM frames.
	DisableDatagrams bool
	// KeyUpdateInterval is how many packets we send per 1-RTT key phase
	// before updating keys; zero uses the core's default (2^22).
	KeyUpdateInterval uint64
	// KeyLogWriter receives TLS secrets in NSS key log format; it turns
	// key logging on by itself.
	KeyLogWriter io.Writer
	// KeyLog, with KeyLogWriter nil, appends TLS secrets to the file named
	// by SSLKEYLOGFILE. The variable alone logs nothing: anyone who can set
	// a process's environment must not be able to decrypt its traffic.
	KeyLog bool
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// QlogDir, when set, gets one JSON-SEQ qlog file per connection.
	QlogDir string
	// Multipath advertises QUIC multipath (initial_max_path_id 7, as
	// iroh) so connections to peers that advertise it too may use several
	// paths; see Conn.OpenPath. Off, connections are exactly single-path.
	Multipath bool
	// NatTraversal (with Multipath) advertises n0 NAT traversal, iroh's
	// hole punching; see Conn.StartNatTraversalRound.
	NatTraversal bool
	// PathIdleTimeout abandons a multipath path that received nothing for
	// this long (the connection lives on over its other paths); zero
	// means 15 s (iroh's), negative disables it.
	PathIdleTimeout time.Duration
	// AddressDiscoveryServer, when set, makes incoming connections QAD
	// server connections (see ListenAddressDiscovery).
	AddressDiscoveryServer *AddressDiscoveryServer
	// DisablePMTUD keeps datagrams at 1200 bytes instead of probing each
	// path for a larger MTU (up to 1452, as iroh does).
	DisablePMTUD bool
}

// admission is what the endpoint's admission gate gets of the config.
func (c *Config) admission() admission.Config {
	return admission.Config{
		MaxPending:          c.MaxPendingHandshakes,
		MaxPendingPerSource: c.MaxPendingHandshakesPerSource,
		RetryAbove:          c.RetryAbove,
	}
}

func (c *Config) handshakeTimeout() time.Duration {
	if c.HandshakeTimeout <= 0 {
		return DefaultHandshakeTimeout
	}
	return c.HandshakeTimeout
}

// coreConfig builds the per-connection core configuration around tls.
func (e *Endpoint) coreConfig(tls *handshake.Config) *core.Config {
	c := &e.cfg
	tls.PrivateKey = e.key.PrivateKey()
	tls.Mode = e.tlsMode
	tls.KeyLogWriter = e.keyLog
	return &core.Config{
		TLS:                   tls,
		IdleTimeout:           c.IdleTimeout,
		KeepAlive:             c.KeepAlive,
		Streams:               c.streamsConfig(),
		NoIncomingBidiStreams: c.MaxIncomingStreams < 0,
		NoIncomingUniStreams:  c.MaxIncomingUniStreams < 0,
		DisableDatagrams:      c.DisableDatagrams,
		Multipath:             c.Multipath,
		NatTraversal:          c.NatTraversal,
		// Bound to loopback, only loopback candidates can work.
		NatLoopbackTargets: boundToLoopback(e.tr.LocalAddr()),
		PathIdleTimeout:    c.PathIdleTimeout,
		KeyUpdateInterval:  c.KeyUpdateInterval,
		ResetKey:           &e.resetKey,
		DisablePMTUD:       c.DisablePMTUD,
	}
}

// openKeyLog opens SSLKEYLOGFILE when key logging was asked for without
// a writer.
func openKeyLog(cfg *Config) (io.Writer, io.Closer, error) {
	if cfg.KeyLogWriter != nil {
		return cfg.KeyLogWriter, nil, nil
	}
	if !cfg.KeyLog {
		return nil, nil, nil
	}
	name := os.Getenv("SSLKEYLOGFILE")
	if name == "" {
		return nil, nil, nil
	}
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, err
	}
	return f, f, nil
}

func boundToLoopback(a net.Addr) bool {
	ua, ok := a.(*net.UDPAddr)
	return ok && ua.IP.IsLoopback()
}

// streamsConfig maps the stream limits and the receive window cap.
func (c *Config) streamsConfig() streams.Config {
	sc := streams.Config{
		MaxStreamsBidi: uint64(max(c.MaxIncomingStreams, 0)),
		MaxStreamsUni:  uint64(max(c.MaxIncomingUniStreams, 0)),
	}
	if c.MaxReceiveWindow > 0 {
		w := uint64(c.MaxReceiveWindow)
		sc.MaxConnWindow = w
		sc.MaxStreamWindow = min(streams.DefaultMaxStreamWindow, w)
		sc.StreamWindow = min(streams.DefaultStreamWindow, w)
		sc.ConnWindow = min(sc.StreamWindow*3/2, w)
	}
	return sc
}
