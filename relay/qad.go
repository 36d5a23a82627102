package relay

import (
	"crypto"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/alkdev/irohspoke/quic"
)

// QUIC Address Discovery (QAD): next to its HTTPS endpoint an iroh relay
// serves QUIC on UDP (port 7842 by default) with the same certificate and
// ALPN /iroh-qad/0, telling each client the address its packets come
// from, so endpoints learn their public address.

// DefaultQADPort is the UDP port of the QAD endpoint when QADAddr names
// only a host.
const DefaultQADPort = quic.DefaultQADPort

// QAD errors.
var (
	ErrQADDisabled = errors.New("relay: QAD is off (ServerConfig.QADAddr is empty)")
	ErrQADNeedsTLS = errors.New("relay: QAD needs ServerConfig.TLSConfig with a certificate whose key can sign")
)

// qadListeners are the QAD endpoints a Server runs; Close and Shutdown
// close them.
type qadListeners struct {
	mu     sync.Mutex
	eps    []*quic.Endpoint
	closed bool
}

// qadAddr applies the default port to a bare host.
func qadAddr(addr string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.Trim(addr, "[]"), strconv.Itoa(DefaultQADPort))
}

// qadCertificate is the relay's TLS certificate as a QAD server needs it.
func (s *Server) qadCertificate() (quic.AddressDiscoveryServer, error) {
	tc := s.cfg.TLSConfig
	if tc == nil || len(tc.Certificates) == 0 || len(tc.Certificates[0].Certificate) == 0 {
		return quic.AddressDiscoveryServer{}, ErrQADNeedsTLS
	}
	key, ok := tc.Certificates[0].PrivateKey.(crypto.Signer)
	if !ok {
		return quic.AddressDiscoveryServer{}, ErrQADNeedsTLS
	}
	return quic.AddressDiscoveryServer{Certificate: tc.Certificates[0].Certificate, Key: key}, nil
}

// ListenQAD starts the QAD endpoint on ServerConfig.QADAddr with the
// relay's TLS certificate and returns its UDP address. It runs until
// Close or Shutdown.
func (s *Server) ListenQAD() (net.Addr, error) {
	if s.cfg.QADAddr == "" {
		return nil, ErrQADDisabled
	}
	srv, err := s.qadCertificate()
	if err != nil {
		return nil, err
	}
	tr, err := quic.ListenUDP(qadAddr(s.cfg.QADAddr))
	if err != nil {
		return nil, err
	}
	ep, err := quic.ListenAddressDiscovery(tr, srv, &quic.Config{Logger: s.log})
	if err != nil {
		tr.Close()
		return nil, err
	}
	s.qad.mu.Lock()
	defer s.qad.mu.Unlock()
	if s.qad.closed {
		ep.Close()
		return nil, ErrServerClosed
	}
	s.qad.eps = append(s.qad.eps, ep)
	return ep.LocalAddr(), nil
}

func (q *qadListeners) close() {
	q.mu.Lock()
	eps := q.eps
	q.eps, q.closed = nil, true
	q.mu.Unlock()
	for _, ep := range eps {
		ep.Close()
	}
}
