package lookup

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"
)

// exchange asks server for name's TXT records over UDP, and again over
// TCP when the UDP answer is truncated (as iroh's resolver does).
func exchange(ctx context.Context, server netip.AddrPort, name string) (txtAnswer, error) {
	var idb [2]byte
	rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	q, err := newTXTQuery(id, name)
	if err != nil {
		return txtAnswer{}, err
	}
	ans, err := exchangeUDP(ctx, server, q, id, name)
	if err != nil || !ans.truncated {
		return ans, err
	}
	ans, err = exchangeTCP(ctx, server, q, id, name)
	if err != nil {
		return txtAnswer{}, fmt.Errorf("%w; over TCP: %w", ErrTruncated, err)
	}
	if ans.truncated {
		return txtAnswer{}, fmt.Errorf("%w, over TCP too", ErrTruncated)
	}
	return ans, nil
}

// exchangeUDP sends q and waits for its answer. Datagrams that are not
// (spoofed, late, garbage) are ignored but remembered, so a timeout can
// say what arrived instead.
func exchangeUDP(ctx context.Context, server netip.AddrPort, q []byte, id uint16, name string) (txtAnswer, error) {
	conn, err := dialCtx(ctx, "udp", server)
	if err != nil {
		return txtAnswer{}, err
	}
	defer conn.Close()
	if _, err := conn.Write(q); err != nil {
		return txtAnswer{}, err
	}
	buf := make([]byte, maxTCPMessageLen)
	var ignored error
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			if ignored != nil {
				return txtAnswer{}, fmt.Errorf("%w (ignored an answer: %w)", err, ignored)
			}
			return txtAnswer{}, err
		}
		ans, err := parseTXTAnswer(buf[:n], id, name)
		if err == nil {
			return ans, nil
		}
		ignored = err
	}
}

// exchangeTCP sends q over a new TCP connection (RFC 7766 framing).
func exchangeTCP(ctx context.Context, server netip.AddrPort, q []byte, id uint16, name string) (txtAnswer, error) {
	conn, err := dialCtx(ctx, "tcp", server)
	if err != nil {
		return txtAnswer{}, err
	}
	defer conn.Close()
	if _, err := conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(q))), q...)); err != nil {
		return txtAnswer{}, err
	}
	var hdr [2]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return txtAnswer{}, ctxErr(ctx, err)
	}
	msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(conn, msg); err != nil {
		return txtAnswer{}, ctxErr(ctx, err)
	}
	ans, err := parseTXTAnswer(msg, id, name)
	if errors.Is(err, errNotOurs) {
		return txtAnswer{}, fmt.Errorf("%w: %w", ErrMalformedDNS, err)
	}
	return ans, err
}

// ctxConn is a connection whose I/O ends when its context does.
type ctxConn struct {
	net.Conn
	stop func() bool
}

func (c ctxConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

func dialCtx(ctx context.Context, network string, server netip.AddrPort) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, server.String())
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	return ctxConn{conn, stop}, nil
}

// ctxErr prefers the context's reason over the I/O error it caused.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
