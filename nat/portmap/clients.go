package portmap

import (
	"context"
	"time"
)

// iroh's answer timeouts (see the package doc).
const (
	pcpTimeout    = 500 * time.Millisecond
	natpmpTimeout = 500 * time.Millisecond
	upnpTimeout   = time.Second
	// releaseTimeout bounds deleting a mapping on Close or a gateway change.
	releaseTimeout = time.Second
)

// client speaks one mapping protocol to the gateway.
type client interface {
	// probe reports whether the gateway answers this protocol.
	probe(ctx context.Context, r route) bool
	// mapPort obtains or renews a mapping.
	mapPort(ctx context.Context, req request) (lease, error)
	// release deletes a mapping this client obtained.
	release(ctx context.Context, l lease) error
}

func secondsOf(d time.Duration) uint32 {
	return uint32(min(d/time.Second, 1<<32-1))
}
