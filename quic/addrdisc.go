package quic

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/handshake"
)

// QUIC Address Discovery (QAD), as iroh relays serve it: a plain WebPKI
// QUIC server on UDP 7842 with ALPN /iroh-qad/0 that reports to each
// client the address its packets come from (OBSERVED_ADDRESS). Dialled
// from the endpoint's own socket, the report is the endpoint's public
// (reflexive) address: a hole-punching candidate.

const (
	// QADALPN is the ALPN of iroh relays' QAD endpoint.
	QADALPN = "/iroh-qad/0"
	// DefaultQADPort is the relays' default QAD UDP port.
	DefaultQADPort = 7842
	// QADCloseCode and QADCloseReason are what iroh closes QAD
	// connections with once it has its answer.
	QADCloseCode   = 1
	QADCloseReason = "finished"

	// iroh's QAD client transport settings.
	qadInitialRTT  = 111 * time.Millisecond
	qadKeepAlive   = 25 * time.Second
	qadIdleTimeout = 35 * time.Second
)

// Errors of address discovery.
var (
	ErrNoObservedAddress = errors.New("quic: QAD server sent no OBSERVED_ADDRESS")
	ErrNoAddrDiscovery   = errors.New("quic: peer did not agree to report our address")
)

// AddressDiscoveryServer makes an Endpoint a QAD server: it accepts
// /iroh-qad/0 connections with this X.509 chain (leaf first) and key
// (ECDSA, RSA or Ed25519; an iroh relay uses its HTTPS certificate),
// reports every client's address and allows no streams.
type AddressDiscoveryServer struct {
	Certificate [][]byte
	Key         crypto.Signer
}

// ListenAddressDiscovery starts a QAD server on tr (taking ownership of
// it). Connections need no Accept: they live until the client closes or
// idles out. cfg may be nil; its ALPNs are replaced by QADALPN.
func ListenAddressDiscovery(tr Transport, srv AddressDiscoveryServer, cfg *Config) (*Endpoint, error) {
	if len(srv.Certificate) == 0 || srv.Key == nil {
		return nil, errors.Join(handshake.ErrInvalidConfig, errors.New("QAD server needs a certificate and key"))
	}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c.ALPNs = []string{QADALPN}
	c.AddressDiscoveryServer = &srv
	e, err := NewEndpoint(tr, &c)
	if err != nil {
		return nil, err
	}
	go e.discardAccepted()
	return e, nil
}

// discardAccepted empties the accept queue of a QAD server: the
// connections run by themselves.
func (e *Endpoint) discardAccepted() {
	for {
		if _, err := e.Accept(context.Background()); err != nil {
			return
		}
	}
}

// serverCoreConfig is coreConfig for an incoming connection.
func (e *Endpoint) serverCoreConfig(tls *handshake.Config) *core.Config {
	cfg := e.coreConfig(tls)
	if s := e.cfg.AddressDiscoveryServer; s != nil {
		tls.Mode, tls.Certificate, tls.Signer = handshake.ModeWebPKI, s.Certificate, s.Key
		tls.ALPN = []string{QADALPN}
		cfg.AddressDiscovery = core.AddressDiscoverySend
		cfg.NoIncomingStreams, cfg.DisableDatagrams = true, true
		cfg.Multipath, cfg.NatTraversal = false, false
	}
	if cfg.NatTraversal {
		cfg.NatAddresses = e.currentNatAddrs // announced with the first flight
	}
	return cfg
}

// DialAddressDiscovery asks the QAD server at to (a relay's host and QAD
// port) for our public address, from this endpoint's own socket. The
// server's certificate must chain to roots (nil: the system's) for
// serverName. It returns the first reported address and the connection,
// which stays open (keep-alive 25 s, idle 35 s, as iroh) so
// WaitObservedAddress learns of changes; close it with
// Close(QADCloseCode, QADCloseReason).
func (e *Endpoint) DialAddressDiscovery(ctx context.Context, to netip.AddrPort, serverName string, roots *x509.CertPool) (netip.AddrPort, *Conn, error) {
	tls := &handshake.Config{ALPN: []string{QADALPN}}
	cfg := e.coreConfig(tls)
	tls.Mode, tls.ServerName, tls.Roots = handshake.ModeWebPKI, serverName, roots
	cfg.AddressDiscovery = core.AddressDiscoveryReceive
	cfg.InitialRTT, cfg.KeepAlive, cfg.IdleTimeout = qadInitialRTT, qadKeepAlive, qadIdleTimeout
	cfg.NoIncomingStreams, cfg.DisableDatagrams = true, true
	cfg.Multipath, cfg.NatTraversal = false, false
	cc, err := core.NewClient(cfg, time.Now(), UDPAddr(to))
	if err != nil {
		return netip.AddrPort{}, nil, err
	}
	c := newConn(e, cc)
	if err := e.register(c); err != nil {
		return netip.AddrPort{}, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.handshakeTimeout())
	defer cancel()
	ap, err := c.WaitObservedAddress(ctx, netip.AddrPort{})
	if err != nil {
		c.abandon(err)
		if c.handshakeDone() {
			return netip.AddrPort{}, nil, err
		}
		if cerr := c.Err(); cerr != nil {
			return netip.AddrPort{}, nil, handshakeError(cerr)
		}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return netip.AddrPort{}, nil, ErrHandshakeTimeout
		}
		return netip.AddrPort{}, nil, err
	}
	return ap, c, nil
}

func (c *Conn) handshakeDone() bool {
	select {
	case <-c.handshakeCh:
		return true
	default:
		return false
	}
}

// ObservedAddress is the latest address the peer reported for us (QUIC
// Address Discovery), if any.
func (c *Conn) ObservedAddress() (netip.AddrPort, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.core.ObservedAddress(0)
}

// WaitObservedAddress waits until the peer reports an address other than
// prev (the zero value: any address) and returns it. It fails when the
// connection closes, ctx ends, or the peer does not do address discovery.
func (c *Conn) WaitObservedAddress(ctx context.Context, prev netip.AddrPort) (netip.AddrPort, error) {
	for {
		c.mu.Lock()
		ap, ok := c.core.ObservedAddress(0)
		negotiated := c.core.AddressDiscovery()
		c.mu.Unlock()
		if ok && ap != prev {
			return ap, nil
		}
		if c.handshakeDone() && !negotiated {
			return netip.AddrPort{}, ErrNoAddrDiscovery
		}
		select {
		case <-c.addrSig:
		case <-c.handshakeCh:
			if negotiated {
				// Already seen; only address reports wake us now.
				select {
				case <-c.addrSig:
				case <-c.closedCh:
					return netip.AddrPort{}, c.Err()
				case <-ctx.Done():
					return netip.AddrPort{}, ctx.Err()
				}
			}
		case <-c.closedCh:
			if ap, ok := c.ObservedAddress(); ok && ap != prev {
				return ap, nil
			}
			if err := c.Err(); err != nil {
				return netip.AddrPort{}, err
			}
			return netip.AddrPort{}, ErrNoObservedAddress
		case <-ctx.Done():
			return netip.AddrPort{}, ctx.Err()
		}
	}
}

// onObservedAddressLocked wakes WaitObservedAddress.
func (c *Conn) onObservedAddressLocked(ev core.Event) {
	c.log.Debug("peer reported our address", "path", ev.Path, "addr", ev.Addr)
	signal(c.addrSig)
}
