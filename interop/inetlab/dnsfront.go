//go:build linux

package inetlab

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/lookup"
)

// DNS record types the front answers itself.
const (
	TypeA    uint16 = 1
	TypeAAAA uint16 = 28
)

const (
	staticTTL       = 300
	forwardTimeout  = 3 * time.Second
	tcpIdleTimeout  = 10 * time.Second
	maxDNSMessage   = 65535
	maxQueryLogSize = 100000
)

// Query is one question the DNS front received.
type Query struct {
	Name string // lower case, no trailing dot
	Type uint16
	TCP  bool
}

// Answerer makes the whole response to a query, for hostile-server tests.
// It gets the parsed query and whether it came over TCP, and returns the
// wire bytes to send (nil: send nothing).
type Answerer func(q *lookup.Message, tcp bool) []byte

// DNSFront is the lab's DNS server: it answers A and AAAA for the lab's
// static names itself and forwards every query under a lookup zone to that
// zone's authoritative server (an "irohspoke lookup-server"), over the
// transport the query came on, passing the answer through unchanged.
// Anything else is NXDOMAIN.
type DNSFront struct {
	// dial opens upstream connections (inside the DNS host's namespace).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu        sync.Mutex
	static    map[string][]netip.Addr
	zones     map[string]netip.AddrPort
	overrides map[string]Answerer
	log       []Query
}

func newDNSFront(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *DNSFront {
	return &DNSFront{
		dial:      dial,
		static:    map[string][]netip.Addr{},
		zones:     map[string]netip.AddrPort{},
		overrides: map[string]Answerer{},
	}
}

func canonical(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// AddHost makes name resolve to addrs (A for IPv4, AAAA for IPv6).
func (f *DNSFront) AddHost(name string, addrs ...netip.Addr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.static[canonical(name)] = append(f.static[canonical(name)], addrs...)
}

// AddZone forwards every name under zone (the apex itself stays static)
// to the DNS server at upstream.
func (f *DNSFront) AddZone(zone string, upstream netip.AddrPort) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.zones[canonical(zone)] = upstream
}

// Override answers queries for name with a instead (nil removes it).
func (f *DNSFront) Override(name string, a Answerer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a == nil {
		delete(f.overrides, canonical(name))
		return
	}
	f.overrides[canonical(name)] = a
}

// Queries returns every query received so far, in order.
func (f *DNSFront) Queries() []Query {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Query(nil), f.log...)
}

// Count is the number of queries received for names under suffix (a
// name or a zone; "" counts all).
func (f *DNSFront) Count(suffix string) int {
	suffix = canonical(suffix)
	n := 0
	for _, q := range f.Queries() {
		if suffix == "" || q.Name == suffix || strings.HasSuffix(q.Name, "."+suffix) {
			n++
		}
	}
	return n
}

// route decides how a question is answered.
func (f *DNSFront) route(q lookup.Question, tcp bool) (override Answerer, static []netip.Addr, isStatic bool, upstream netip.AddrPort) {
	name := canonical(q.Name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.log) < maxQueryLogSize {
		f.log = append(f.log, Query{Name: name, Type: q.Type, TCP: tcp})
	}
	if a := f.overrides[name]; a != nil {
		return a, nil, false, netip.AddrPort{}
	}
	if addrs, ok := f.static[name]; ok {
		return nil, addrs, true, netip.AddrPort{}
	}
	for zone, up := range f.zones {
		if strings.HasSuffix(name, "."+zone) {
			return nil, nil, false, up
		}
	}
	return nil, nil, false, netip.AddrPort{}
}

// respond answers one query; nil means send nothing.
func (f *DNSFront) respond(ctx context.Context, query []byte, tcp bool) []byte {
	m, err := lookup.ParseMessage(query)
	if err != nil || m.Flags&lookup.FlagResponse != 0 {
		return nil
	}
	resp := &lookup.Message{ID: m.ID, Flags: lookup.FlagResponse | m.Flags&lookup.FlagRecursionDesired, Questions: m.Questions}
	if len(m.Questions) != 1 {
		resp.Flags |= lookup.RcodeFormErr
		return pack(resp)
	}
	override, addrs, isStatic, upstream := f.route(m.Questions[0], tcp)
	switch {
	case override != nil:
		return override(m, tcp)
	case isStatic:
		resp.Flags |= lookup.FlagAuthoritative
		resp.Answers = addressRecords(m.Questions[0], addrs)
	case upstream.IsValid():
		b, err := f.forward(ctx, upstream, query, tcp)
		if err == nil {
			return b
		}
		resp.Flags |= lookup.RcodeServFail
	default:
		resp.Flags |= lookup.FlagAuthoritative | lookup.RcodeNXDomain
	}
	return pack(resp)
}

func pack(m *lookup.Message) []byte {
	b, _ := m.Pack()
	return b
}

// addressRecords are the A or AAAA answers for q among addrs.
func addressRecords(q lookup.Question, addrs []netip.Addr) []lookup.Record {
	var out []lookup.Record
	for _, a := range addrs {
		switch {
		case q.Type == TypeA && a.Is4():
			b := a.As4()
			out = append(out, lookup.Record{Name: q.Name, Type: TypeA, Class: lookup.ClassIN, TTL: staticTTL, Data: b[:]})
		case q.Type == TypeAAAA && a.Is6():
			b := a.As16()
			out = append(out, lookup.Record{Name: q.Name, Type: TypeAAAA, Class: lookup.ClassIN, TTL: staticTTL, Data: b[:]})
		}
	}
	return out
}

// forward relays one query to upstream and returns its answer as is.
func (f *DNSFront) forward(ctx context.Context, upstream netip.AddrPort, query []byte, tcp bool) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, forwardTimeout)
	defer cancel()
	network := "udp"
	if tcp {
		network = "tcp"
	}
	conn, err := f.dial(ctx, network, upstream.String())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	if tcp {
		if err := writeTCPMessage(conn, query); err != nil {
			return nil, err
		}
		return readTCPMessage(conn)
	}
	if _, err := conn.Write(query); err != nil {
		return nil, err
	}
	buf := make([]byte, maxDNSMessage)
	n, err := conn.Read(buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// ServeUDP answers queries on pc until it is closed.
func (f *DNSFront) ServeUDP(pc net.PacketConn) error {
	buf := make([]byte, maxDNSMessage)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			continue
		}
		q := append([]byte(nil), buf[:n]...)
		go func() {
			if resp := f.respond(context.Background(), q, false); resp != nil {
				pc.WriteTo(resp, from)
			}
		}()
	}
}

// ServeTCP answers length-prefixed queries on l's connections until l is
// closed.
func (f *DNSFront) ServeTCP(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			continue
		}
		go f.serveConn(c)
	}
}

func (f *DNSFront) serveConn(c net.Conn) {
	defer c.Close()
	for {
		c.SetDeadline(time.Now().Add(tcpIdleTimeout))
		q, err := readTCPMessage(c)
		if err != nil {
			return
		}
		resp := f.respond(context.Background(), q, true)
		if resp == nil || writeTCPMessage(c, resp) != nil {
			return
		}
	}
}

func readTCPMessage(r io.Reader) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	_, err := io.ReadFull(r, b)
	return b, err
}

func writeTCPMessage(w io.Writer, m []byte) error {
	if len(m) > maxDNSMessage {
		return lookup.ErrMessageTooLarge
	}
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(m)), uint16(len(m)))
	_, err := w.Write(append(b, m...))
	return err
}
