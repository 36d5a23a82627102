package handshake

import (
	"sync"
	"time"
)

// maxTicketsPerPeer caps one peer's bucket; iroh keeps 256 tickets overall.
const maxTicketsPerPeer = 8

// SessionTicket is a NewSessionTicket kept for later resumption.
type SessionTicket struct {
	Suite        uint16
	ALPN         string
	Lifetime     time.Duration
	AgeAdd       uint32
	Ticket       []byte
	MaxEarlyData uint32
	ReceivedAt   time.Time
	// PSK is the resumption PSK derived from the ticket nonce (RFC 8446 §4.6.1).
	PSK []byte
}

// TicketStore keeps session tickets per peer EndpointId. It is safe for
// concurrent use by many Conns.
type TicketStore struct {
	mu      sync.Mutex
	tickets map[[32]byte][]SessionTicket
}

// NewTicketStore returns an empty store.
func NewTicketStore() *TicketStore {
	return &TicketStore{tickets: make(map[[32]byte][]SessionTicket)}
}

// Add stores t for peer, evicting the oldest when the bucket is full.
func (s *TicketStore) Add(peer [32]byte, t SessionTicket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tickets == nil {
		s.tickets = make(map[[32]byte][]SessionTicket)
	}
	b := append(s.tickets[peer], t)
	if len(b) > maxTicketsPerPeer {
		b = b[len(b)-maxTicketsPerPeer:]
	}
	s.tickets[peer] = b
}

// Take removes and returns the newest ticket for peer (tickets are single
// use, RFC 8446 §C.4).
func (s *TicketStore) Take(peer [32]byte) (SessionTicket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.tickets[peer]
	if len(b) == 0 {
		return SessionTicket{}, false
	}
	t := b[len(b)-1]
	s.tickets[peer] = b[:len(b)-1]
	return t, true
}

// Len returns how many tickets are stored for peer.
func (s *TicketStore) Len(peer [32]byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tickets[peer])
}
