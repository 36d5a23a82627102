package admission

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"io"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/core"
)

// A Retry token is AES-GCM under a key that never leaves the process:
// the nonce, then the sealed issue time and original DCID. The client's
// address and the DCID its next Initial must carry (our Retry's SCID) are
// the associated data, so a token works from one address, for one
// connection attempt, for a limited time.
type tokenSealer struct {
	aead   cipher.AEAD
	random io.Reader
}

const nonceLen = 12

func newTokenSealer(random io.Reader) (*tokenSealer, error) {
	var key [16]byte
	if _, err := io.ReadFull(random, key[:]); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &tokenSealer{aead: aead, random: random}, nil
}

// associatedData binds a token to the client's address and to the DCID
// of the Initial that must carry it.
func associatedData(from core.Addr, dcid []byte) []byte {
	ad := make([]byte, 0, 64)
	if from.IsRelay() {
		ad = append(ad, 'r')
		ad = append(ad, from.Relay.Peer[:]...)
		ad = append(ad, from.Relay.URL...)
	} else {
		ip := from.UDP.Addr().Unmap().As16()
		ad = append(ad, 'u')
		ad = append(ad, ip[:]...)
		ad = binary.BigEndian.AppendUint16(ad, from.UDP.Port())
	}
	ad = append(ad, byte(len(dcid)))
	return append(ad, dcid...)
}

func (s *tokenSealer) seal(now time.Time, from core.Addr, odcid, retrySCID []byte) ([]byte, error) {
	tok := make([]byte, nonceLen, nonceLen+8+len(odcid)+s.aead.Overhead())
	if _, err := io.ReadFull(s.random, tok); err != nil {
		return nil, err
	}
	var plain [8 + 20]byte
	binary.BigEndian.PutUint64(plain[:], uint64(now.UnixNano()))
	n := 8 + copy(plain[8:], odcid)
	return s.aead.Seal(tok, tok[:nonceLen], plain[:n], associatedData(from, retrySCID)), nil
}

// open returns the original DCID of a valid token presented from from in
// an Initial with DCID dcid, issued no longer than lifetime before now.
func (s *tokenSealer) open(now time.Time, lifetime time.Duration, from core.Addr, dcid, tok []byte) ([]byte, bool) {
	if len(tok) < nonceLen+8+s.aead.Overhead() {
		return nil, false
	}
	plain, err := s.aead.Open(nil, tok[:nonceLen], tok[nonceLen:], associatedData(from, dcid))
	if err != nil || len(plain) < 8 {
		return nil, false
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(plain)))
	// A wall clock stepping back must not void fresh tokens.
	if age := now.Sub(issued); age < -lifetime || age > lifetime {
		return nil, false
	}
	return plain[8:], true
}
