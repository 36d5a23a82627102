package endpoint

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

// DialError is a Dial in which every path failed. Direct and Relay hold
// each path's reason (nil when that path was not tried); it unwraps to
// both.
type DialError struct {
	Peer   identity.EndpointID
	Direct error
	Relay  error
}

func (e *DialError) Error() string {
	var parts []string
	if e.Direct != nil {
		parts = append(parts, "direct: "+e.Direct.Error())
	}
	if e.Relay != nil {
		parts = append(parts, "relay: "+e.Relay.Error())
	}
	return fmt.Sprintf("endpoint: dial %s: %s", e.Peer.Short(), strings.Join(parts, "; "))
}

func (e *DialError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Direct, e.Relay} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

type dialResult struct {
	to   quic.Addr
	conn *quic.Conn
	err  error
}

// Dial connects to the endpoint t, speaking alpn, and returns once a handshake
// completed.
//
// Policy: without multipath a QUIC connection lives on the path its
// handshake completed on, so Dial races whole connections rather than
// paths. A direct dial starts at once for each direct address (up to four);
// the relay dial starts after Options.RelayHeadStart, at once when there is
// no direct address, or as soon as every direct dial has failed. The first
// handshake to complete wins; the other dials are cancelled, and a loser
// that completed anyway is closed. When all fail, the *DialError carries
// the direct and the relay reasons. An address with only the ID is first
// looked up with Options.Lookup, if set.
func (e *Endpoint) Dial(ctx context.Context, t identity.EndpointAddr, alpn string) (*quic.Conn, error) {
	t, err := e.lookupTarget(ctx, t)
	if err != nil {
		return nil, err
	}
	direct, relayAddr, err := e.paths(t)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan dialResult, len(direct)+1)
	pending := 0
	start := func(to quic.Addr) {
		pending++
		go func() {
			c, err := e.dialPath(ctx, to, t.ID, alpn)
			results <- dialResult{to: to, conn: c, err: err}
		}()
	}
	for _, a := range direct {
		start(a)
	}
	relayWaiting := relayAddr.IsValid()
	var headStart <-chan time.Time
	if relayWaiting {
		if hs := e.opts.relayHeadStart(); len(direct) == 0 || hs == 0 {
			start(relayAddr)
			relayWaiting = false
		} else {
			timer := time.NewTimer(hs)
			defer timer.Stop()
			headStart = timer.C
		}
	}
	dErr := &DialError{Peer: t.ID}
	for pending > 0 || relayWaiting {
		select {
		case <-headStart:
			start(relayAddr)
			relayWaiting = false
		case r := <-results:
			pending--
			if r.err == nil {
				cancel()
				e.won(r.conn)
				e.managePaths(r.conn, true, t.Relays)
				go closeLosers(results, pending)
				e.monitorReady()
				return r.conn, nil
			}
			if r.to.IsRelay() {
				dErr.Relay = r.err
			} else {
				dErr.Direct = errors.Join(dErr.Direct, fmt.Errorf("%s: %w", r.to, r.err))
			}
			if pending == 0 && relayWaiting {
				// Every direct dial failed: skip the rest of the head start.
				relayWaiting = false
				if ctx.Err() == nil {
					start(relayAddr)
				}
			}
		}
	}
	e.metrics.DialsFailed.Add(1)
	return nil, dErr
}

// paths turns an endpoint address into the addresses to dial.
func (e *Endpoint) paths(t identity.EndpointAddr) (direct []quic.Addr, relayAddr quic.Addr, err error) {
	return e.pathsFrom(t, e.LocalAddr().Addr().Unmap().Is4())
}

// pathsFrom is paths for a socket that is IPv4-only or not.
func (e *Endpoint) pathsFrom(t identity.EndpointAddr, v4Only bool) (direct []quic.Addr, relayAddr quic.Addr, err error) {
	seen := make(map[netip.AddrPort]bool)
	for _, ap := range t.Addrs {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if !ap.IsValid() || ap.Port() == 0 || seen[ap] || len(direct) == maxDirectDials {
			continue
		}
		// An IPv4-only socket cannot reach IPv6 peers; do not waste a dial.
		if ap.Addr().Is6() && v4Only {
			continue
		}
		seen[ap] = true
		direct = append(direct, quic.UDPAddr(ap))
	}
	if t.RelayURL() != "" {
		url, err := identity.NormalizeRelayURL(t.RelayURL())
		if err != nil {
			return nil, quic.Addr{}, fmt.Errorf("endpoint: relay URL: %w", err)
		}
		relayAddr = quic.Addr{Relay: quic.RelayAddr{URL: url, Peer: t.ID}}
	}
	if len(direct) == 0 && !relayAddr.IsValid() {
		return nil, quic.Addr{}, ErrNoPath
	}
	return direct, relayAddr, nil
}

// won records the winning connection of a race.
func (e *Endpoint) won(c *quic.Conn) {
	if c.RemoteAddr().IsRelay() {
		e.metrics.DialsRelayWon.Add(1)
	} else {
		e.metrics.DialsDirectWon.Add(1)
	}
	e.track(c)
}

// closeLosers collects the dials still running after a race was won and
// closes any that completed anyway.
func closeLosers(results <-chan dialResult, pending int) {
	for ; pending > 0; pending-- {
		if r := <-results; r.err == nil {
			r.conn.Close(0, "lost the dial race")
		}
	}
}

// dialPath dials one path. A relay dial ends as soon as the relay proves
// unreachable (ErrRelayUnreachable with the relay's reason) instead of
// waiting out the handshake timeout; every error says what went wrong.
func (e *Endpoint) dialPath(ctx context.Context, to quic.Addr, peer identity.EndpointID, alpn string) (*quic.Conn, error) {
	if !to.IsRelay() {
		c, err := e.q.Dial(ctx, to, peer, alpn)
		return c, explainDialError(to, peer, err, nil)
	}
	link, err := e.relays.get(to.Relay.URL)
	if err != nil {
		return nil, err
	}
	wasUp := link.Status().State == relay.StateConnected
	dctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		if err := link.failure(dctx, wasUp); err != nil {
			cancel(err)
		}
	}()
	c, err := e.q.Dial(dctx, to, peer, alpn)
	if err != nil && ctx.Err() == nil {
		if cause := context.Cause(dctx); errors.Is(cause, ErrRelayUnreachable) {
			return nil, cause
		}
	}
	return c, explainDialError(to, peer, err, link)
}

// explainDialError turns a bare QUIC error into one that says what
// happened on this path.
func explainDialError(to quic.Addr, peer identity.EndpointID, err error, link *relayLink) error {
	var te *quic.TransportError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te) && !te.Remote && isAlert(te, tlsAlertUnknownCA):
		return fmt.Errorf("%w: %w", ErrWrongPeerKey, err)
	case !errors.Is(err, quic.ErrHandshakeTimeout):
		return err
	case link == nil:
		return fmt.Errorf("no answer from %s: %w", to, err)
	case isDown(link.Status()):
		return fmt.Errorf("%w: %s: %v: %w", ErrRelayUnreachable, to.Relay.URL, link.Status().Err, err)
	case link.Status().State != relay.StateConnected:
		return fmt.Errorf("%w: %s: still connecting to the relay: %w", ErrRelayUnreachable, to.Relay.URL, err)
	}
	return fmt.Errorf("no answer from %s through relay %s (we are connected to the relay; the peer is offline or homed elsewhere): %w",
		peer.Short(), to.Relay.URL, err)
}

// tlsAlertUnknownCA is the alert a client sends when the server's key is
// not the one dialed.
const tlsAlertUnknownCA = 48

func isAlert(te *quic.TransportError, alert uint8) bool {
	a, ok := te.TLSAlert()
	return ok && a == alert
}
