package lookup

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// iroh-dns-server's PUT limit: a burst of 2, then one request per 4 s per
// client IP.
const (
	DefaultPutBurst    = 2
	DefaultPutInterval = 4 * time.Second
	maxLimiterEntries  = 65536
)

// ServerOptions configure a Server. The zero value serves origin-less DNS
// (only the pkarr API is useful then) with iroh's rate limit.
type ServerOptions struct {
	// Origin is the DNS zone the server answers for, e.g. "dns.example.".
	Origin string
	// MaxPackets bounds the store (DefaultMaxPackets if 0).
	MaxPackets int
	// PutBurst and PutInterval set the per-IP PUT rate limit
	// (DefaultPutBurst, DefaultPutInterval if 0); a negative PutBurst
	// disables it.
	PutBurst    int
	PutInterval time.Duration
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Server is a self-hostable subset of iroh-dns-server: the pkarr relay
// HTTP API (Handler) and an authoritative DNS server over UDP (ServeDNS)
// and TCP (ServeDNSTCP) for "_iroh.<z32>.<Origin>", all backed by one
// in-memory Store.
type Server struct {
	store   *Store
	origin  string // lower case, no trailing dot
	limiter *rateLimiter
	log     *slog.Logger
}

// NewServer returns a Server with an empty store.
func NewServer(opts ServerOptions) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		store:  NewStore(opts.MaxPackets),
		origin: strings.ToLower(strings.TrimSuffix(opts.Origin, ".")),
		log:    log,
	}
	if opts.PutBurst >= 0 {
		burst, interval := opts.PutBurst, opts.PutInterval
		if burst == 0 {
			burst = DefaultPutBurst
		}
		if interval <= 0 {
			interval = DefaultPutInterval
		}
		s.limiter = &rateLimiter{burst: float64(burst), interval: interval, buckets: make(map[netip.Addr]*bucket)}
	}
	return s
}

// Store is the server's packet store.
func (s *Server) Store() *Store { return s.store }

// Handler serves PUT and GET /pkarr/<z32> and GET /healthz.
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
	if s.limiter != nil && !s.limiter.allow(remoteIP(r), time.Now()) {
		http.Error(w, "rate limited", http.StatusTooManyRequests)
		return
	}
	id, err := identity.ParseZBase32(r.PathValue("key"))
	if err != nil {
		http.Error(w, "invalid key", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxSignedPacketLen))
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

// rateLimiter is a token bucket per client IP.
type rateLimiter struct {
	burst    float64
	interval time.Duration
	mu       sync.Mutex
	buckets  map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func (l *rateLimiter) allow(ip netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[ip]
	if !ok {
		if len(l.buckets) >= maxLimiterEntries {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[ip] = b
	}
	b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.last))/float64(l.interval))
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// prune forgets buckets that have refilled completely; if that frees
// nothing, it forgets them all rather than grow without bound.
func (l *rateLimiter) prune(now time.Time) {
	full := time.Duration(l.burst * float64(l.interval))
	for ip, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, ip)
		}
	}
	if len(l.buckets) >= maxLimiterEntries {
		clear(l.buckets)
	}
}
