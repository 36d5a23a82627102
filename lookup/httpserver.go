package lookup

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
)

// HTTPServer returns an http.Server for the pkarr API with the HTTP
// timeouts above and the connection caps of ServerLimits (enforced as
// connections arrive; a refused one is closed at once). Its ErrorLog,
// which carries accept errors, goes to the Logger at Warn. Use it to add
// TLS or a graceful Shutdown; ServePkarr is the plain-HTTP shortcut.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.timeouts.readHeader,
		ReadTimeout:       s.timeouts.read,
		WriteTimeout:      s.timeouts.write,
		IdleTimeout:       s.timeouts.idle,
		MaxHeaderBytes:    httpMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		ConnState:         s.trackHTTPConn,
	}
}

// ServePkarr serves the pkarr API (see HTTPServer) on l until l is
// closed; it then closes every open connection and returns nil.
func (s *Server) ServePkarr(l net.Listener) error {
	hs := s.HTTPServer()
	err := hs.Serve(l)
	hs.Close()
	if errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// trackHTTPConn admits new connections into the table and keeps their
// idle state, so keep-alive connections are evicted first under load.
func (s *Server) trackHTTPConn(c net.Conn, state http.ConnState) {
	now := s.now()
	switch state {
	case http.StateNew:
		ok, why := s.httpConns.admit(c, now)
		if why != "" {
			s.log.Debug("pkarr http: connection limit", "remote", c.RemoteAddr(), "admitted", ok, "why", why)
		}
		if !ok {
			c.Close()
		}
	case http.StateActive:
		s.httpConns.setIdle(c, false, now)
	case http.StateIdle:
		s.httpConns.setIdle(c, true, now)
	case http.StateClosed, http.StateHijacked:
		s.httpConns.remove(c)
	}
}
