package lookup

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// DNS lookup timing, as iroh's DNS address lookup.
var (
	// DNSStaggering: attempts start at these offsets (±20 % jitter) and run
	// concurrently; the first success wins.
	DNSStaggering = []time.Duration{0, 200 * time.Millisecond, 300 * time.Millisecond,
		600 * time.Millisecond, time.Second, 2 * time.Second, 3 * time.Second}
)

const (
	// DNSTimeout bounds each attempt.
	DNSTimeout = 3 * time.Second
	// ednsSize is the UDP payload size we advertise (RFC 9715 advice).
	ednsSize = 1232
)

// ErrTruncated: a UDP answer too large for one datagram (no TCP fallback).
var ErrTruncated = errors.New("lookup: DNS answer truncated")

// DNSResolver looks endpoints up with TXT queries for
// "_iroh.<z32>.<Origin>" sent over UDP to Server.
type DNSResolver struct {
	Server netip.AddrPort
	Origin string // e.g. "dns.iroh.link."
	// Staggering overrides DNSStaggering; Timeout overrides DNSTimeout.
	Staggering []time.Duration
	Timeout    time.Duration
}

// DNSName is the name iroh queries for id under origin, without the
// trailing dot.
func DNSName(id identity.EndpointID, origin string) string {
	return IrohLabel + "." + id.ZBase32() + "." + strings.TrimSuffix(origin, ".")
}

// Resolve implements Resolver: staggered attempts, first success wins.
// NXDOMAIN or an answer without iroh records is ErrNotFound.
func (r *DNSResolver) Resolve(ctx context.Context, id identity.EndpointID) (EndpointInfo, error) {
	stagger := r.Staggering
	if len(stagger) == 0 {
		stagger = DNSStaggering
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan result, len(stagger))
	for _, d := range stagger {
		go func() {
			if d > 0 {
				t := time.NewTimer(jitter(d))
				defer t.Stop()
				select {
				case <-t.C:
				case <-ctx.Done():
					results <- result{err: ctx.Err()}
					return
				}
			}
			info, err := r.query(ctx, id)
			results <- result{info, err}
		}()
	}
	return firstSuccess(id, results, len(stagger))
}

// jitter spreads d by up to ±20 %, like iroh.
func jitter(d time.Duration) time.Duration {
	span := int64(d) * 40 / 100
	if span <= 0 {
		return d
	}
	return d - time.Duration(span/2) + time.Duration(mrand.Int64N(span+1))
}

// query runs one attempt: one UDP socket, one query, the first matching
// answer.
func (r *DNSResolver) query(ctx context.Context, id identity.EndpointID) (EndpointInfo, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DNSTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name := DNSName(id, r.Origin)
	var idb [2]byte
	rand.Read(idb[:])
	q := Message{
		ID:          binary.BigEndian.Uint16(idb[:]),
		Flags:       FlagRecursionDesired,
		Questions:   []Question{{Name: name, Type: TypeTXT, Class: ClassIN}},
		Additionals: []Record{{Type: TypeOPT, Class: ednsSize}},
	}
	wireQ, err := q.Pack()
	if err != nil {
		return EndpointInfo{ID: id}, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", r.Server.String())
	if err != nil {
		return EndpointInfo{ID: id}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := conn.Write(wireQ); err != nil {
		return EndpointInfo{ID: id}, err
	}
	buf := make([]byte, 65535)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if ctx.Err() != nil {
				return EndpointInfo{ID: id}, fmt.Errorf("lookup: DNS query to %s: %w", r.Server, ctx.Err())
			}
			return EndpointInfo{ID: id}, err
		}
		resp, err := ParseMessage(buf[:n])
		if err != nil || resp.ID != q.ID || resp.Flags&FlagResponse == 0 ||
			len(resp.Questions) != 1 || !equalName(resp.Questions[0].Name, name) {
			continue // not our answer; keep waiting (spoofing or a stray)
		}
		return answerInfo(id, name, resp)
	}
}

// answerInfo turns a DNS response into the endpoint's info. The id comes
// from the query name, as in iroh, not from the records.
func answerInfo(id identity.EndpointID, name string, resp *Message) (EndpointInfo, error) {
	switch resp.Rcode() {
	case RcodeSuccess:
	case RcodeNXDomain:
		return EndpointInfo{ID: id}, ErrNotFound
	default:
		return EndpointInfo{ID: id}, fmt.Errorf("lookup: DNS rcode %d for %s", resp.Rcode(), name)
	}
	if resp.Flags&FlagTruncated != 0 {
		return EndpointInfo{ID: id}, ErrTruncated
	}
	recs, err := irohTXT(resp.Answers, name)
	if err != nil {
		return EndpointInfo{ID: id}, err
	}
	if len(recs) == 0 {
		return EndpointInfo{ID: id}, ErrNotFound
	}
	return ParseTXTAttrs(id, recs), nil
}
