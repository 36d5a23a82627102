package spoke

import (
	"context"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
)

// Endpoint is what Dial needs from an iroh-style endpoint; an
// *endpoint.Endpoint satisfies it. The spoke depends on this interface,
// not on the endpoint package, so the socket layer stays free of events.
type Endpoint interface {
	Dial(ctx context.Context, addr identity.EndpointAddr, alpn string) (*quic.Conn, error)
}

// pathWatcher is implemented by endpoints whose connections can move
// between paths (multipath): the channel is signalled when the path may
// have changed, so the target reports the move from relay to direct.
type pathWatcher interface {
	PathChanged(c *quic.Conn) <-chan struct{}
}

// endpointDialer adapts an Endpoint to Dialer.
type endpointDialer struct{ ep Endpoint }

func (d endpointDialer) DialHub(ctx context.Context, hub identity.EndpointAddr, alpn string) (Conn, error) {
	c, err := d.ep.Dial(ctx, hub, alpn)
	if err != nil {
		return nil, err
	}
	if w, ok := d.ep.(pathWatcher); ok {
		if ch := w.PathChanged(c); ch != nil {
			return pathNotifyingConn{Conn: WrapQUIC(c), changed: ch}, nil
		}
	}
	return WrapQUIC(c), nil
}

// pathNotifyingConn is a Conn that is also a PathNotifier.
type pathNotifyingConn struct {
	Conn
	changed <-chan struct{}
}

func (p pathNotifyingConn) PathChanged() <-chan struct{} { return p.changed }
