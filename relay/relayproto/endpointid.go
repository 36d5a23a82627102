package relayproto

import (
	"encoding/binary"

	"filippo.io/edwards25519"
)

// ValidEndpointID reports whether id decodes as an Ed25519 point, which is
// what iroh checks for every EndpointId inside a frame. Like iroh's decoder
// (curve25519-dalek), non-canonical encodings of valid points are accepted,
// and so are small-order points.
func ValidEndpointID(id *[EndpointIDLen]byte) bool {
	var p edwards25519.Point
	_, err := p.SetBytes(id[:])
	return err == nil
}

// keyCache remembers recently validated ids so that a busy connection does
// not pay a point decompression per datagram (iroh keeps an LRU for the same
// reason). Direct-mapped and fixed-size: no allocation, and a collision only
// costs a re-validation.
type keyCache struct {
	slots [keyCacheSize]struct {
		id    [EndpointIDLen]byte
		valid bool
	}
}

const keyCacheSize = 64

func (c *keyCache) valid(id *[EndpointIDLen]byte) bool {
	if c == nil {
		return ValidEndpointID(id)
	}
	slot := &c.slots[binary.LittleEndian.Uint64(id[:8])%keyCacheSize]
	if slot.valid && slot.id == *id {
		return true
	}
	if !ValidEndpointID(id) {
		return false
	}
	slot.id, slot.valid = *id, true
	return true
}
