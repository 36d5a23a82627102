package endpoint

import (
	"context"

	"github.com/alkdev/irohspoke/spoke"
)

// DialHub makes *Endpoint a spoke.Dialer: spoke.Dial(ctx, ep, hub) runs a
// spoke target over direct and relay paths with Dial's racing policy.
func (e *Endpoint) DialHub(ctx context.Context, hub spoke.HubAddr, alpn string) (spoke.Conn, error) {
	c, err := e.Dial(ctx, Target{ID: hub.ID, Addrs: hub.Addrs, RelayURL: hub.RelayURL}, alpn)
	if err != nil {
		return nil, err
	}
	return spoke.WrapQUIC(c), nil
}
