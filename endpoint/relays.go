package endpoint

import (
	"crypto/tls"
	"log/slog"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

// relayLink is one relay client and what we know about it.
type relayLink struct {
	url    string // normalised, as it appears in quic.RelayAddr
	client *relay.Client

	mu     sync.Mutex
	status relay.Status
}

func (l *relayLink) Status() relay.Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
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
	l = &relayLink{url: url}
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

// lookup returns the client for url if one runs.
func (rs *relaySet) lookup(url string) *relayLink {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	return rs.links[url]
}

func (rs *relaySet) statusChanged(l *relayLink, st relay.Status) {
	l.mu.Lock()
	l.status = st
	l.mu.Unlock()
	rs.log.Debug("relay status", "relay", l.url, "state", st.State, "err", st.Err)
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
