//go:build linux

package inetlab

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/lookup"
)

// DialFrom dials addr from inside h's namespace, so the connection
// crosses the lab like one made by a process on h.
func (l *Lab) DialFrom(ctx context.Context, h *natlab.Host, network, addr string) (net.Conn, error) {
	return nsDialer(h)(ctx, network, addr)
}

// QueryDNS asks the lab's DNS host one question over UDP from inside h.
func (l *Lab) QueryDNS(ctx context.Context, h *natlab.Host, name string, qtype uint16) (*lookup.Message, error) {
	conn, err := l.DialFrom(ctx, h, "udp", netip.AddrPortFrom(dnsAddr, 53).String())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var id [2]byte
	rand.Read(id[:])
	q := lookup.Message{
		ID: binary.BigEndian.Uint16(id[:]), Flags: lookup.FlagRecursionDesired,
		Questions:   []lookup.Question{{Name: name, Type: qtype, Class: lookup.ClassIN}},
		Additionals: []lookup.Record{{Type: lookup.TypeOPT, Class: 1232}},
	}
	b, err := q.Pack()
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(3 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetDeadline(deadline)
	if _, err := conn.Write(b); err != nil {
		return nil, err
	}
	buf := make([]byte, maxDNSMessage)
	n, err := conn.Read(buf)
	if err != nil {
		return nil, fmt.Errorf("inetlab: DNS %s: %w", name, err)
	}
	resp, err := lookup.ParseMessage(buf[:n])
	if err != nil {
		return nil, err
	}
	if resp.ID != q.ID {
		return nil, fmt.Errorf("inetlab: DNS answer with id %d, want %d", resp.ID, q.ID)
	}
	return resp, nil
}
