package lookup

import (
	"container/list"
	"sync"

	"github.com/alkdev/irohspoke/identity"
)

// DefaultMaxPackets bounds the in-memory store (≈ 1.2 KB per packet).
const DefaultMaxPackets = 100_000

// Store keeps the newest signed packet per endpoint, in memory, evicting
// the least recently updated one beyond its bound. Safe for concurrent
// use.
type Store struct {
	max     int
	mu      sync.Mutex
	packets map[identity.EndpointID]*list.Element // of *SignedPacket
	order   list.List                             // front = most recently updated
}

// NewStore returns a store holding at most max packets
// (DefaultMaxPackets if max <= 0).
func NewStore(max int) *Store {
	if max <= 0 {
		max = DefaultMaxPackets
	}
	return &Store{max: max, packets: make(map[identity.EndpointID]*list.Element)}
}

// Put stores p unless the stored packet for its key is at least as new
// (ErrStaleTimestamp). p must have been verified.
func (s *Store) Put(p *SignedPacket) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.packets[p.ID]; ok {
		if !p.NewerThan(el.Value.(*SignedPacket)) {
			return ErrStaleTimestamp
		}
		el.Value = p
		s.order.MoveToFront(el)
		return nil
	}
	s.packets[p.ID] = s.order.PushFront(p)
	for s.order.Len() > s.max {
		old := s.order.Back()
		s.order.Remove(old)
		delete(s.packets, old.Value.(*SignedPacket).ID)
	}
	return nil
}

// Get returns the stored packet for id, or nil.
func (s *Store) Get(id identity.EndpointID) *SignedPacket {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.packets[id]; ok {
		return el.Value.(*SignedPacket)
	}
	return nil
}

// Len is the number of stored packets.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.packets)
}
