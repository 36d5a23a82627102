package identity

import (
	"fmt"

	"github.com/alkdev/irohspoke/internal/postcard"
)

// postcardError wraps a ticket decoding failure with what was being read
// and the offset it happened at.
func postcardError(r *postcard.Reader, what string, err error) error {
	return fmt.Errorf("%w: %s at byte %d: %w", ErrInvalidTicket, what, r.Offset(), err)
}
