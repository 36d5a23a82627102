package lookup

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// iroh-dns-server's PUT limit: a burst of 2, then one request per 4 s per
// client.
const (
	DefaultPutBurst    = 2
	DefaultPutInterval = 4 * time.Second
	// A client over its PUT limit may still refresh a key the server
	// already stores, charged to that key: a burst of 2, then one per
	// minute (iroh republishes every 5 minutes or on change).
	refreshBurst    = 2
	refreshInterval = time.Minute
	// maxLimiterEntries bounds each limiter's memory (a few MB).
	maxLimiterEntries = 65536
)

// ServerOptions configure a Server. The zero value serves origin-less DNS
// (only the pkarr API is useful then) with iroh's rate limit and the
// DefaultLimits.
type ServerOptions struct {
	// Origin is the DNS zone the server answers for, e.g. "dns.example.";
	// see CheckOrigin.
	Origin string
	// MaxPackets bounds the store (DefaultMaxPackets if 0).
	MaxPackets int
	// PutBurst and PutInterval set the PUT rate limit per client (an IPv4
	// address or an IPv6 /64); DefaultPutBurst, DefaultPutInterval if 0.
	// A negative PutBurst disables it.
	PutBurst    int
	PutInterval time.Duration
	// Limits bound connections and DNS response rates; zero fields take
	// their defaults.
	Limits ServerLimits
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Validate reports options NewServer cannot serve: an invalid Origin
// (see CheckOrigin). An empty Origin is valid (pkarr API only).
func (o ServerOptions) Validate() error {
	if o.Origin == "" {
		return nil
	}
	return CheckOrigin(o.Origin)
}

// Server is a self-hostable subset of iroh-dns-server: the pkarr relay
// HTTP API (Handler, HTTPServer, ServePkarr) and an authoritative DNS
// server over UDP (ServeDNS) and TCP (ServeDNSTCP) for
// "_iroh.<z32>.<Origin>", all backed by one in-memory Store.
type Server struct {
	store     *Store
	origin    string // lower case, no trailing dot; "" if invalid
	originErr error  // why Origin was refused, returned by the DNS servers
	limits    ServerLimits
	putLimit  *tokenBuckets[netip.Prefix]
	refresh   *tokenBuckets[identity.EndpointID]
	rrl       *responseLimiter
	httpConns *connTable
	dnsConns  *connTable
	timeouts  serverTimeouts
	log       *slog.Logger
	now       func() time.Time
}

// NewServer returns a Server with an empty store. Options that Validate
// refuses leave the server without a zone: ServeDNS and ServeDNSTCP then
// return the validation error at once.
func NewServer(opts ServerOptions) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	limits := opts.Limits.withDefaults()
	s := &Server{
		store:     NewStore(opts.MaxPackets),
		limits:    limits,
		httpConns: newConnTable(limits.MaxHTTPConnsPerClient, limits.MaxHTTPConns),
		dnsConns:  newConnTable(limits.MaxDNSTCPConnsPerClient, limits.MaxDNSTCPConns),
		timeouts:  defaultTimeouts,
		log:       log,
		now:       time.Now,
	}
	if s.originErr = opts.Validate(); s.originErr == nil {
		s.origin = strings.ToLower(strings.TrimSuffix(opts.Origin, "."))
	}
	if limits.DNSResponseRate > 0 {
		s.rrl = newResponseLimiter(limits.DNSResponseRate, limits.DNSResponseBurst)
	}
	if opts.PutBurst >= 0 {
		burst, interval := opts.PutBurst, opts.PutInterval
		if burst == 0 {
			burst = DefaultPutBurst
		}
		if interval <= 0 {
			interval = DefaultPutInterval
		}
		s.putLimit = newTokenBuckets[netip.Prefix](burst, interval, maxLimiterEntries)
		s.refresh = newTokenBuckets[identity.EndpointID](refreshBurst, refreshInterval, maxLimiterEntries)
	}
	return s
}

// Store is the server's packet store.
func (s *Server) Store() *Store { return s.store }

// Handler serves PUT and GET /pkarr/<z32> and GET /healthz. Serve it with
// HTTPServer or ServePkarr, which add timeouts and connection caps.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /pkarr/{key}", s.put)
	mux.HandleFunc("GET /pkarr/{key}", s.get)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	return mux
}

func (s *Server) put(w http.ResponseWriter, r *http.Request) {
	id, err := identity.ParseZBase32(r.PathValue("key"))
	if err != nil {
		http.Error(w, "invalid key", http.StatusBadRequest)
		return
	}
	if !s.allowPut(remoteIP(r), id) {
		http.Error(w, "rate limited", http.StatusTooManyRequests)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxSignedPacketLen+1))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	p, err := ParseRelayPayload(id, body)
	if err != nil {
		http.Error(w, "invalid body payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	// Like iroh-dns-server, an older packet is accepted and ignored.
	err = s.store.Put(p)
	s.log.Debug("pkarr put", "key", id.Short(), "updated", err == nil)
	w.WriteHeader(http.StatusNoContent)
}

// allowPut applies the PUT rate limit. A client over its limit may still
// refresh a key already stored (many endpoints behind one NAT republish
// through one address), charged to the key's own bucket. Anyone can spend
// that bucket for a public key, but only for clients that are over their
// own limit, and it bounds the signature checks a flood can cause to one
// a minute per stored key.
func (s *Server) allowPut(ip netip.Addr, id identity.EndpointID) bool {
	if s.putLimit == nil {
		return true
	}
	now := s.now()
	if s.putLimit.allow(hostPrefix(ip), now) {
		return true
	}
	return s.store.Get(id) != nil && s.refresh.allow(id, now)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	id, err := identity.ParseZBase32(r.PathValue("key"))
	if err != nil {
		http.Error(w, "invalid key", http.StatusBadRequest)
		return
	}
	p := s.store.Get(id)
	if p == nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", ContentTypePkarr)
	w.Write(p.RelayPayload())
}

func remoteIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}
