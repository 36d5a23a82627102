package endpoint

import (
	"context"

	"github.com/alkdev/irohspoke/spoke"
)

// DialHub makes *Endpoint a spoke.Dialer: spoke.Dial(ctx, ep, hub) runs a
// spoke target over direct and relay paths with Dial's racing policy. With
// multipath on (the default) the returned Conn is a spoke.PathNotifier, so
// the target reports the move from the relay to a direct path.
func (e *Endpoint) DialHub(ctx context.Context, hub spoke.HubAddr, alpn string) (spoke.Conn, error) {
	c, err := e.Dial(ctx, Target{ID: hub.ID, Addrs: hub.Addrs, RelayURL: hub.RelayURL}, alpn)
	if err != nil {
		return nil, err
	}
	if ch := e.PathChanged(c); ch != nil {
		return pathNotifyingConn{Conn: spoke.WrapQUIC(c), changed: ch}, nil
	}
	return spoke.WrapQUIC(c), nil
}

// pathNotifyingConn is a spoke.Conn that is also a spoke.PathNotifier.
type pathNotifyingConn struct {
	spoke.Conn
	changed <-chan struct{}
}

func (p pathNotifyingConn) PathChanged() <-chan struct{} { return p.changed }
