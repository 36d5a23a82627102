package endpoint

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

// relayLink is one relay client and what we know about it.
type relayLink struct {
	url    string // normalised, as it appears in quic.RelayAddr
	client *relay.Client

	mu      sync.Mutex
	status  relay.Status
	changed chan struct{} // closed and replaced on every status change
}

func newRelayLink(url string) *relayLink {
	return &relayLink{url: url, changed: make(chan struct{})}
}

func (l *relayLink) Status() relay.Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
}

func (l *relayLink) setStatus(st relay.Status) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.status = st
	close(l.changed)
	l.changed = make(chan struct{})
}

// isDown: the relay connection was lost or an attempt failed, and no
// attempt has succeeded since. A first attempt under way is not down.
func isDown(st relay.Status) bool {
	return st.State == relay.StateReconnecting || st.State == relay.StateFailed
}

// failure waits until the relay proves unreachable for a dial that began
// with the link in state wasUp: an attempt fails while it is not
// connected (for a link that was connected, only a terminal failure
// counts: a reconnect may still heal it). It returns the relay's error,
// or nil when ctx ends.
func (l *relayLink) failure(ctx context.Context, wasUp bool) error {
	for {
		l.mu.Lock()
		st, ch := l.status, l.changed
		l.mu.Unlock()
		if st.State == relay.StateConnected {
			wasUp = true
		}
		if st.State == relay.StateFailed || isDown(st) && !wasUp {
			err := st.Err
			if err == nil {
				err = errors.New(st.State.String())
			}
			return fmt.Errorf("%w: %s: %w", ErrRelayUnreachable, l.url, err)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil
		}
	}
}

// relaySet owns the relay clients of an endpoint: the home relay's, made
// at Bind, and one per other relay URL a peer is dialed through, made on
// first use and kept until Close.
type relaySet struct {
	key        identity.SecretKey
	token      string
	tlsConfig  *tls.Config
	backoffMax time.Duration
	onStatus   func(url string, st relay.Status)
	onLink     func(url string, st relay.Status) // the home manager's watch
	reconnect  func(url string)                  // a lost connection is up again
	lastCheck  atomic.Int64                      // checkSoon's last check (Unix ns)
	log        *slog.Logger
	sock       *socket
	metrics    *Metrics

	mu     sync.RWMutex
	links  map[string]*relayLink
	closed bool
	done   chan struct{} // closed by close: stops the pumps
	pumps  sync.WaitGroup
}

// get returns the client for url (normalised), starting it if needed.
func (rs *relaySet) get(url string) (*relayLink, error) {
	rs.mu.RLock()
	l, ok := rs.links[url]
	closed := rs.closed
	rs.mu.RUnlock()
	if ok {
		return l, nil
	}
	if closed {
		return nil, ErrClosed
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.closed {
		return nil, ErrClosed
	}
	if l, ok := rs.links[url]; ok {
		return l, nil
	}
	l = newRelayLink(url)
	c, err := relay.NewClient(relay.ClientConfig{
		URL:        url,
		SecretKey:  rs.key,
		Token:      rs.token,
		TLSConfig:  rs.tlsConfig,
		BackoffMax: rs.backoffMax,
		OnStatus:   func(st relay.Status) { rs.statusChanged(l, st) },
		Logger:     rs.log.With("relay", url),
	})
	if err != nil {
		return nil, err
	}
	l.client = c
	rs.links[url] = l
	rs.pumps.Add(1)
	go rs.pump(l)
	return l, nil
}

// checkConnections checks every relay connection now against local, our
// addresses: as iroh, one from an address we no longer have reconnects at
// once, the others are pinged.
func (rs *relaySet) checkConnections(local []netip.Addr) {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	for _, l := range rs.links {
		if local == nil {
			l.client.CheckConnection()
		} else {
			l.client.CheckConnectionFrom(local)
		}
	}
}

// lookup returns the client for url if one runs.
func (rs *relaySet) lookup(url string) *relayLink {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	return rs.links[url]
}

// down reports whether the client for url exists and is down (isDown).
func (rs *relaySet) down(url string) bool {
	l := rs.lookup(url)
	return l != nil && isDown(l.Status())
}

func (rs *relaySet) statusChanged(l *relayLink, st relay.Status) {
	prev := l.Status()
	l.setStatus(st)
	rs.log.Debug("relay status", "relay", l.url, "state", st.State, "err", st.Err)
	if rs.onLink != nil {
		rs.onLink(l.url, st)
	}
	if rs.reconnect != nil && st.State == relay.StateConnected && prev.State == relay.StateReconnecting {
		rs.reconnect(l.url)
	}
	if rs.onStatus != nil {
		rs.onStatus(l.url, st)
	}
}

// pump moves the relay's events into the socket: datagrams become
// (relay path, bytes) for the QUIC reader.
func (rs *relaySet) pump(l *relayLink) {
	defer rs.pumps.Done()
	events := l.client.Events()
	for {
		select {
		case ev := <-events:
			switch ev.Kind {
			case relay.EventDatagram:
				from := quic.Addr{Relay: quic.RelayAddr{URL: l.url, Peer: ev.Src}}
				rs.sock.deliver(relayDatagram{from: from, payload: ev.Payload})
			case relay.EventEndpointGone:
				rs.metrics.RelayEndpointGone.Add(1)
				rs.log.Debug("peer left the relay", "relay", l.url, "peer", ev.Src.Short())
			case relay.EventStatus, relay.EventHealth, relay.EventRestarting:
				rs.log.Debug("relay notice", "relay", l.url, "kind", ev.Kind,
					"status", ev.StatusCode, "health", ev.Health)
			}
		case <-rs.done:
			return
		}
	}
}

// close stops every client and waits for the pumps.
func (rs *relaySet) close() {
	rs.mu.Lock()
	if rs.closed {
		rs.mu.Unlock()
		return
	}
	rs.closed = true
	links := rs.links
	rs.mu.Unlock()
	close(rs.done)
	for _, l := range links {
		l.client.Close()
	}
	rs.pumps.Wait()
}
