package portmap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// maxAnswer is the receive buffer: anything longer is refused as oversize.
const maxAnswer = 1100

// verdict tells exchange what to do with one datagram.
type verdict func(b []byte) (done bool, err error)

// exchange sends req from a fresh socket on local to server and feeds each
// datagram from server's exact address and port to check until check says
// done or wait runs out. Datagrams from elsewhere, oversize ones and those
// check refuses without done are ignored; the last reason is reported on
// timeout.
func exchange(ctx context.Context, local netip.Addr, server netip.AddrPort, req []byte, wait time.Duration, check verdict) error {
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0)))
	if err != nil {
		return fmt.Errorf("portmap: socket on %v: %w", local, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	dl, _ := ctx.Deadline()
	_ = conn.SetReadDeadline(dl)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	if _, err := conn.WriteToUDPAddrPort(req, server); err != nil {
		return fmt.Errorf("portmap: sending to %v: %w", server, err)
	}
	ignored := error(nil)
	buf := make([]byte, maxAnswer+1)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || ctx.Err() != nil {
				if ignored != nil {
					return fmt.Errorf("%w from %v within %v (ignored: %v)", ErrTimeout, server, wait, ignored)
				}
				return fmt.Errorf("%w from %v within %v", ErrTimeout, server, wait)
			}
			return fmt.Errorf("portmap: reading from %v: %w", server, err)
		}
		switch {
		case netip.AddrPortFrom(from.Addr().Unmap(), from.Port()) != server:
			ignored = fmt.Errorf("answer from %v", from)
		case n > maxAnswer:
			ignored = fmt.Errorf("oversize answer of more than %d bytes", maxAnswer)
		default:
			done, err := check(buf[:n])
			if done {
				return err
			}
			ignored = err
		}
	}
}
