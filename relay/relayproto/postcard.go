package relayproto

import (
	"errors"

	"github.com/alkdev/irohspoke/internal/postcard"
)

// Handshake bodies are postcard (see internal/postcard). These adapters read
// from the start of a payload, return how many bytes they used, and turn
// postcard's errors into this package's.

// readPostcardVarint decodes a usize (64-bit) varint from the start of b.
func readPostcardVarint(b []byte) (v uint64, n int, err error) {
	r := postcard.NewReader(b)
	if v, err = r.U64(); err != nil {
		return 0, 0, fromPostcard(err)
	}
	return v, r.Offset(), nil
}

// readPostcardBytes decodes a byte string (varint length + bytes).
func readPostcardBytes(b []byte) (s []byte, n int, err error) {
	r := postcard.NewReader(b)
	if s, err = r.Bytes(); err != nil {
		return nil, 0, fromPostcard(err)
	}
	return s, r.Offset(), nil
}

func fromPostcard(err error) error {
	switch {
	case errors.Is(err, postcard.ErrTruncated):
		return ErrTruncated
	case errors.Is(err, postcard.ErrVarint):
		return ErrBadVarint
	}
	return err
}
