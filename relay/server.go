package relay

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"expvar"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/relay/internal/websocket"
	"github.com/alkdev/irohspoke/relay/relayproto"
)

// ServerConfig configures a Server. The zero value is a working relay with
// iroh's defaults, open to everyone, without rate limiting.
type ServerConfig struct {
	// Logger receives one line per rejected or misbehaving client;
	// slog.Default() if nil.
	Logger *slog.Logger
	// Tokens, if not empty, are the accepted bearer tokens (Authorization:
	// Bearer or ?token=); clients without one are denied after the login.
	Tokens []string
	// RateLimit, if positive, limits the bytes read from each client per
	// second; RateBurst is the bucket size (RateLimit/10 if zero, as iroh).
	RateLimit int64
	RateBurst int64
	// PingInterval is how long a client may stay silent before the server
	// pings it; a uniform jitter of 1/15…1/3 of it is added (iroh: 15 s +
	// 1…5 s). Zero means relayproto.PingInterval.
	PingInterval time.Duration
	// WriteTimeout bounds each write to a client (relayproto.ServerWriteTimeout
	// if zero); a client that does not read is cut off after it.
	WriteTimeout time.Duration
	// QueueDepth is the per-client send queue in frames
	// (relayproto.PerClientSendQueueDepth if zero).
	QueueDepth int
	// EstablishTimeout bounds upgrade → login (relayproto.ServerEstablishTimeout
	// if zero); a socket that has not logged in by then is closed.
	EstablishTimeout time.Duration
	// RequestTimeout bounds reading one plain HTTP request, headers and
	// body, and writing its answer (DefaultRequestTimeout if zero).
	RequestTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long between
	// requests (DefaultIdleTimeout if zero).
	IdleTimeout time.Duration
	// MaxConns caps open TCP connections, logged in or not
	// (DefaultMaxConns, lowered to 3/4 of the file descriptor limit, if
	// zero; negative: no cap). Connections over a cap are closed at once.
	MaxConns int
	// MaxConnsPerIP caps open connections from one IPv4 address or IPv6
	// /64 (DefaultMaxConnsPerIP if zero; negative: no cap).
	MaxConnsPerIP int
	// TLSConfig, if set, makes the Serve/ListenAndServe helpers speak TLS.
	TLSConfig *tls.Config
	// QADAddr is the UDP HOST:PORT of the QUIC Address Discovery endpoint
	// (a bare HOST uses port 7842) that ListenQAD starts with TLSConfig's
	// certificate; empty disables QAD (qad.go).
	QADAddr string
}

// Defaults for ServerConfig's connection limits.
const (
	DefaultRequestTimeout = 10 * time.Second
	DefaultIdleTimeout    = 30 * time.Second
	DefaultMaxConns       = 10000
	DefaultMaxConnsPerIP  = 256
)

// maxRequestHeaderBytes bounds an HTTP request head (net/http's 1 MB
// default is far more than an upgrade needs).
const maxRequestHeaderBytes = 16 << 10

// Server is an iroh 1.0 compatible relay. It is an http.Handler for /relay,
// /ping and /generate_204; Serve and ListenAndServe run it on a listener.
type Server struct {
	cfg     ServerConfig
	log     *slog.Logger
	reg     registry
	metrics ServerMetrics
	expvars *expvar.Map

	mu       sync.Mutex
	closing  bool
	conns    map[*serverConn]struct{}
	logins   map[*websocket.Conn]struct{} // upgraded, not yet logged in
	servers  []*http.Server
	connsWG  sync.WaitGroup
	tokenSet [][]byte
	qad      qadListeners

	limiter      *connLimiter
	acceptErrLog logThrottle
	refusedLog   logThrottle
}

// Server errors.
var (
	// ErrServerClosed is returned by Serve after Shutdown or Close.
	ErrServerClosed = http.ErrServerClosed
	// ErrExpvarExists: PublishExpvar was given a name already in use.
	ErrExpvarExists = errors.New("relay: expvar name already published")
)

// NewServer returns a relay with cfg's settings (defaults filled in).
func NewServer(cfg ServerConfig) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = relayproto.PingInterval
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = relayproto.ServerWriteTimeout
	}
	if cfg.QueueDepth <= 0 {
		cfg.QueueDepth = relayproto.PerClientSendQueueDepth
	}
	if cfg.EstablishTimeout <= 0 {
		cfg.EstablishTimeout = relayproto.ServerEstablishTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = defaultMaxConns(fdLimit())
	}
	if cfg.MaxConnsPerIP == 0 {
		cfg.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	s := &Server{cfg: cfg, log: cfg.Logger, conns: make(map[*serverConn]struct{}), logins: make(map[*websocket.Conn]struct{}),
		limiter: newConnLimiter(cfg.MaxConns, cfg.MaxConnsPerIP)}
	for _, t := range cfg.Tokens {
		s.tokenSet = append(s.tokenSet, []byte(t))
	}
	s.reg.init()
	s.expvars = s.metrics.expvarMap()
	return s
}

// defaultMaxConns leaves a quarter of the descriptors to everything
// else, so that the cap is reached before accept starts failing.
func defaultMaxConns(fds int) int {
	if fds > 0 {
		return max(min(DefaultMaxConns, fds*3/4), 1)
	}
	return DefaultMaxConns
}

// Metrics returns the server's live counters.
func (s *Server) Metrics() *ServerMetrics { return &s.metrics }

// Expvar returns the metrics as an (unpublished) expvar map.
func (s *Server) Expvar() *expvar.Map { return s.expvars }

// PublishExpvar publishes the metrics map under name (e.g. "relayserver").
func (s *Server) PublishExpvar(name string) error {
	if expvar.Get(name) != nil {
		return ErrExpvarExists
	}
	expvar.Publish(name, s.expvars)
	return nil
}

// ServeHTTP implements the relay's HTTP surface.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case relayproto.RelayPath:
		s.serveRelay(w, r)
	case relayproto.ProbePath:
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.WriteHeader(http.StatusOK)
	case "/generate_204":
		if c := r.Header.Get("X-Iroh-Challenge"); validCaptiveChallenge(c) {
			w.Header().Set("X-Iroh-Response", "response "+c)
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

// validCaptiveChallenge: 1–63 characters of [A-Za-z0-9._-], as iroh-relay.
func validCaptiveChallenge(c string) bool {
	if len(c) == 0 || len(c) > 63 {
		return false
	}
	for _, ch := range []byte(c) {
		ok := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == '-'
		if !ok {
			return false
		}
	}
	return true
}

func (s *Server) serveRelay(w http.ResponseWriter, r *http.Request) {
	if err := websocket.CheckUpgradeRequest(r); err != nil {
		if errors.Is(err, websocket.ErrBadVersion) {
			w.Header().Set("Sec-WebSocket-Version", relayproto.WebSocketVersion)
		}
		s.log.Info("relay: bad upgrade request", "remote", r.RemoteAddr, "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// Like iroh, only the first Sec-WebSocket-Protocol line counts.
	offer := r.Header.Values(relayproto.SubprotocolHeader)
	if len(offer) == 0 {
		s.log.Info("relay: upgrade without subprotocol", "remote", r.RemoteAddr)
		http.Error(w, "missing Sec-WebSocket-Protocol", http.StatusBadRequest)
		return
	}
	version, ok := relayproto.NegotiateVersion(offer[0])
	if !ok {
		s.log.Info("relay: no supported subprotocol", "remote", r.RemoteAddr, "offer", offer[0])
		http.Error(w, "unsupported relay protocol version", http.StatusBadRequest)
		return
	}
	// A malformed keying-material header fails the handshake (as iroh);
	// a well-formed one that does not verify falls back to the challenge.
	var kmAuth *relayproto.KeyMaterialAuth
	if h := r.Header.Get(relayproto.ClientAuthHeader); h != "" && r.TLS != nil {
		a, err := relayproto.ParseKeyMaterialHeader(h)
		if err != nil {
			s.metrics.AuthFailures.Add(1)
			s.log.Info("relay: malformed client auth header", "remote", r.RemoteAddr, "err", err)
			http.Error(w, "malformed client auth header", http.StatusBadRequest)
			return
		}
		kmAuth = a
	}
	token := requestToken(r)

	s.mu.Lock()
	closing := s.closing
	if !closing {
		s.connsWG.Add(1)
	}
	s.mu.Unlock()
	if closing {
		http.Error(w, "relay shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.connsWG.Done()

	ws, err := websocket.Upgrade(w, r, version.Subprotocol())
	if err != nil {
		s.log.Info("relay: upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	s.metrics.WebsocketAccepts.Add(1)
	s.mu.Lock()
	s.logins[ws] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.logins, ws)
		s.mu.Unlock()
	}()
	var tlsState *tls.ConnectionState
	if r.TLS != nil {
		tlsState = r.TLS
	}
	s.handleConn(ws, version, r.RemoteAddr, kmAuth, tlsState, token)
}

// requestToken extracts a bearer token: the Authorization header first
// (scheme matched case-insensitively), else the ?token= query parameter.
func requestToken(r *http.Request) string {
	if h := r.Header.Get(relayproto.AuthorizationHeader); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
	}
	return r.URL.Query().Get(relayproto.AuthTokenQueryParam)
}

func (s *Server) tokenAllowed(tok string) bool {
	if len(s.tokenSet) == 0 {
		return true
	}
	ok := false
	for _, t := range s.tokenSet {
		if subtle.ConstantTimeCompare(t, []byte(tok)) == 1 {
			ok = true
		}
	}
	return ok
}

func (s *Server) track(c *serverConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *serverConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Serve accepts connections on l (TLS if ServerConfig.TLSConfig is set)
// until Shutdown or Close; it then returns ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	// The timeouts cover plain requests; an upgraded connection gets its
	// own deadlines (EstablishTimeout, then WriteTimeout and pings).
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.RequestTimeout,
		ReadTimeout:       s.cfg.RequestTimeout,
		WriteTimeout:      s.cfg.RequestTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    maxRequestHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		// HTTP/1.1 only, as iroh-relay: an empty map disables h2 over TLS.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.servers = append(s.servers, hs)
	s.mu.Unlock()
	l = &limitListener{Listener: l, s: s, lim: s.limiter}
	if s.cfg.TLSConfig != nil {
		tc := s.cfg.TLSConfig.Clone()
		tc.NextProtos = []string{"http/1.1"}
		l = tls.NewListener(l, tc)
	}
	return hs.Serve(l)
}

// ListenAndServe listens on addr and calls Serve.
func (s *Server) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Shutdown stops accepting, tells every client the relay is restarting
// (Restarting frame, then WebSocket close 1001) and waits for their
// connections to end or ctx to expire, when it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	servers, conns := s.beginClose()
	var err error
	for _, hs := range servers {
		if e := hs.Shutdown(ctx); e != nil && err == nil {
			err = e
		}
	}
	restart := relayproto.Restarting{ReconnectInMillis: 1000, TryForMillis: 30000}
	for _, c := range conns {
		go c.closeGracefully(&restart)
	}
	done := make(chan struct{})
	go func() { s.connsWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.closeAll()
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}

// Close stops the relay at once, closing every connection.
func (s *Server) Close() error {
	servers, _ := s.beginClose()
	for _, hs := range servers {
		_ = hs.Close()
	}
	s.closeAll()
	s.connsWG.Wait()
	return nil
}

// closeAll closes every connection, logged in or still logging in.
func (s *Server) closeAll() {
	s.mu.Lock()
	conns := make([]*serverConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	logins := make([]*websocket.Conn, 0, len(s.logins))
	for ws := range s.logins {
		logins = append(logins, ws)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.terminate(websocket.CloseGoingAway, "relay shutting down")
	}
	for _, ws := range logins {
		_ = ws.Close(websocket.CloseGoingAway, "relay shutting down")
	}
}

func (s *Server) beginClose() ([]*http.Server, []*serverConn) {
	s.qad.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	conns := make([]*serverConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return s.servers, conns
}

// isQuietClose reports errors that end a connection normally.
func isQuietClose(err error) bool {
	var ce *websocket.CloseError
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) ||
		(errors.As(err, &ce) && (ce.Code == websocket.CloseNormal || ce.Code == websocket.CloseGoingAway))
}
