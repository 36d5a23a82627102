package lookup

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/alkdev/irohspoke/identity"
)

// DNS lookup timing, as iroh 1.0.2 (iroh/src/address_lookup/dns.rs
// DNS_STAGGERING_MS, iroh-dns/src/dns.rs DNS_TIMEOUT and add_jitter).
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
	// concurrentServers: one attempt asks this many nameservers at once
	// and the next one whenever one fails (hickory's default, which iroh
	// uses).
	concurrentServers = 2
)

// ErrTruncated: an answer still truncated after asking over TCP.
var ErrTruncated = errors.New("lookup: DNS answer truncated")

// DNSResolver looks endpoints up with TXT queries for
// "_iroh.<z32>.<Origin>": over UDP, then TCP for a truncated answer. The
// nameservers are Server, or those given to NewDNSResolver, or the
// system's (SystemDNSResolver). Each lookup runs iroh's staggered
// attempts; a failure is reported once, with a hint at the zone.
type DNSResolver struct {
	// Server is a nameserver by address, for resolvers built as a
	// literal; NewDNSResolver and SystemDNSResolver leave it unset.
	Server netip.AddrPort
	Origin string // e.g. "dns.iroh.link."
	// Staggering overrides DNSStaggering; Timeout overrides DNSTimeout.
	Staggering []time.Duration
	Timeout    time.Duration

	nameservers []Nameserver // NewDNSResolver
	system      *systemConf  // SystemDNSResolver
}

// NewDNSResolver returns a resolver asking the given nameservers (see
// ParseNameserver: IP[:port] or host[:port]) under origin. It refuses an
// invalid origin (CheckOrigin) or nameserver.
func NewDNSResolver(origin string, nameservers ...string) (*DNSResolver, error) {
	if err := CheckOrigin(origin); err != nil {
		return nil, err
	}
	if len(nameservers) == 0 {
		return nil, fmt.Errorf("%w: none given", ErrBadNameserver)
	}
	r := &DNSResolver{Origin: origin}
	for _, s := range nameservers {
		ns, err := ParseNameserver(s)
		if err != nil {
			return nil, err
		}
		r.nameservers = append(r.nameservers, ns)
	}
	return r, nil
}

// DNSName is the name iroh queries for id under origin, without the
// trailing dot.
func DNSName(id identity.EndpointID, origin string) string {
	return IrohLabel + "." + id.ZBase32() + "." + strings.TrimSuffix(origin, ".")
}

// Resolve implements Resolver: staggered attempts, first success wins.
// NXDOMAIN or an answer without iroh records is ErrNotFound; a refusal is
// ErrRefused; each is reported once however many attempts saw it.
func (r *DNSResolver) Resolve(ctx context.Context, id identity.EndpointID) (EndpointInfo, error) {
	if err := CheckOrigin(r.Origin); err != nil {
		return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: id}}, err
	}
	q := dnsQuestion{id: id, origin: r.Origin, name: DNSName(id, r.Origin), timeout: r.timeout()}
	servers, err := r.servers(ctx)
	if err != nil {
		return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: id}}, err
	}
	attempt := func(ctx context.Context) (EndpointInfo, error) { return q.askAll(ctx, servers) }
	if servers == nil {
		attempt = q.askGo
	}
	stagger := r.Staggering
	if len(stagger) == 0 {
		stagger = DNSStaggering
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan result, len(stagger))
	for _, d := range stagger {
		go func() {
			if err := sleepCtx(ctx, jitter(d)); err != nil {
				results <- result{err: err}
				return
			}
			info, err := attempt(ctx)
			results <- result{info, err}
		}()
	}
	info, errs := firstSuccess(results, len(stagger))
	if errs == nil {
		return info, nil
	}
	return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: id}}, summarizeAttempts(errs)
}

func (r *DNSResolver) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DNSTimeout
}

// servers lists the socket addresses to ask; nil means Go's resolver.
func (r *DNSResolver) servers(ctx context.Context) ([]netip.AddrPort, error) {
	switch {
	case r.system != nil:
		return r.system.nameservers(), nil
	case len(r.nameservers) > 0:
		var out []netip.AddrPort
		var errs []error
		for _, ns := range r.nameservers {
			addrs, err := ns.addrs(ctx)
			out = append(out, addrs...)
			errs = append(errs, err)
		}
		if len(out) == 0 {
			return nil, errors.Join(errs...)
		}
		return out, nil
	case !r.Server.IsValid():
		return nil, fmt.Errorf("%w: DNSResolver has no Server", ErrBadNameserver)
	case r.Server.Port() == 0:
		return nil, fmt.Errorf("%w: %s: port 0", ErrBadNameserver, r.Server)
	}
	return []netip.AddrPort{r.Server}, nil
}

// jitter spreads d by up to ±20 %, like iroh.
func jitter(d time.Duration) time.Duration {
	span := int64(d) * 40 / 100
	if span <= 0 {
		return d
	}
	return d - time.Duration(span/2) + time.Duration(mrand.Int64N(span+1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// dnsQuestion is one endpoint's lookup under one origin.
type dnsQuestion struct {
	id      identity.EndpointID
	origin  string
	name    string
	timeout time.Duration
}

// askAll is one attempt: servers are asked concurrentServers at a time,
// the next one whenever one fails, until one gives a definitive answer
// (records, NXDOMAIN or none).
func (q dnsQuestion) askAll(ctx context.Context, servers []netip.AddrPort) (EndpointInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	results := make(chan result, len(servers))
	next, pending := 0, 0
	launch := func() {
		server := servers[next]
		next++
		pending++
		go func() {
			info, err := q.ask(ctx, server)
			results <- result{info, err}
		}()
	}
	for next < len(servers) && next < concurrentServers {
		launch()
	}
	var errs []error
	for pending > 0 {
		res := <-results
		pending--
		if res.err == nil || errors.Is(res.err, ErrNotFound) {
			return res.info, res.err
		}
		errs = append(errs, res.err)
		if next < len(servers) {
			launch()
		}
	}
	return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: q.id}}, summarizeAttempts(errs)
}

// ask asks one server and turns its answer into info or an error that
// names the server and hints at the cause.
func (q dnsQuestion) ask(ctx context.Context, server netip.AddrPort) (EndpointInfo, error) {
	ans, err := exchange(ctx, server, q.name)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: q.id}}, fmt.Errorf("%w from %s within %v for %s: %w", ErrNoAnswer, server, q.timeout, q.name, err)
		}
		return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: q.id}}, fmt.Errorf("lookup: DNS query to %s for %s: %w", server, q.name, err)
	}
	switch ans.rcode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: q.id}}, q.notFound(fmt.Sprintf("%s answered NXDOMAIN", server))
	case dnsmessage.RCodeRefused:
		return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: q.id}}, fmt.Errorf("%w: %s refused %s; it is neither authoritative for %s nor a resolver that serves us",
			ErrRefused, server, q.name, q.origin)
	default:
		return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: q.id}}, fmt.Errorf("%w: %s answered %s for %s", ErrServerFailure, server, rcodeName(ans.rcode), q.name)
	}
	return q.info(ans.records, server.String())
}

// askGo is one attempt through Go's resolver (no usable resolv.conf).
func (q dnsQuestion) askGo(ctx context.Context) (EndpointInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	recs, err := goLookupTXT(ctx, fqdn(q.name))
	if err != nil {
		if isNotFound(err) {
			return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: q.id}}, q.notFound("the system resolver found no such name")
		}
		if ctx.Err() != nil {
			return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: q.id}}, fmt.Errorf("%w from the system resolver within %v for %s: %w", ErrNoAnswer, q.timeout, q.name, err)
		}
		return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: q.id}}, fmt.Errorf("lookup: system resolver, %s: %w", q.name, err)
	}
	return q.info(recs, "the system resolver")
}

// info parses the TXT records; none at all is ErrNotFound.
func (q dnsQuestion) info(records []string, from string) (EndpointInfo, error) {
	if len(records) == 0 {
		return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: q.id}}, q.notFound(from + " has no TXT records there")
	}
	size := 0
	for _, r := range records {
		size += len(r)
	}
	if size > maxTXTBytes {
		return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: q.id}}, fmt.Errorf("%w: %s gave more than %d bytes of TXT records for %s; an iroh record fits in %d", ErrMessageTooLarge, from, maxTXTBytes, shorten(q.name), maxTXTBytes)
	}
	return ParseTXTAttrs(q.id, records), nil
}

func (q dnsQuestion) notFound(why string) error {
	return fmt.Errorf("%w: no _iroh TXT record for %s under %s (%s)", ErrNotFound, q.id.ZBase32(), q.origin, why)
}

func rcodeName(rc dnsmessage.RCode) string {
	return strings.TrimPrefix(rc.String(), "RCode")
}
