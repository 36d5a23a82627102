package relay

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/relay/internal/websocket"
	"github.com/alkdev/irohspoke/relay/relayproto"
)

// Dial errors.
var (
	// ErrBadURL: the relay URL cannot be parsed or has no host.
	ErrBadURL = errors.New("relay: bad relay URL")
	// ErrDenied: the relay refused the login (ServerDeniesAuth).
	ErrDenied = errors.New("relay: login denied")
	// ErrLoginProtocol: the relay broke the login protocol.
	ErrLoginProtocol = errors.New("relay: login protocol error")
	// ErrProxy: the HTTP proxy refused or broke the CONNECT.
	ErrProxy = errors.New("relay: proxy CONNECT failed")
	// ErrBadSubprotocol: the relay chose no known protocol version.
	ErrBadSubprotocol = errors.New("relay: relay answered an unknown protocol version")
)

// DeniedError carries the relay's reason; it matches ErrDenied.
type DeniedError struct{ Reason string }

func (e *DeniedError) Error() string   { return "relay: login denied: " + e.Reason }
func (e *DeniedError) Is(t error) bool { return t == ErrDenied }

// dialTarget is a relay URL resolved per iroh's rules: path replaced by
// /relay (query kept), TLS unless http/ws, default ports 80/443.
type dialTarget struct {
	useTLS     bool
	host       string // without port, trailing dot stripped (for SNI)
	hostPort   string // for TCP and CONNECT
	hostHeader string // authority as in the URL
	path       string // "/relay" plus query
	proxyURL   *url.URL
}

func resolveTarget(relayURL string) (*dialTarget, *url.URL, error) {
	u, err := url.Parse(relayURL)
	if err != nil || u.Host == "" {
		return nil, nil, fmt.Errorf("%w: %q", ErrBadURL, relayURL)
	}
	t := &dialTarget{useTLS: u.Scheme != "http" && u.Scheme != "ws", hostHeader: u.Host}
	port := u.Port()
	if port == "" {
		port = "443"
		if !t.useTLS {
			port = "80"
		}
	}
	t.host = strings.TrimSuffix(u.Hostname(), ".")
	t.hostPort = net.JoinHostPort(u.Hostname(), port)
	t.path = relayproto.RelayPath
	if u.RawQuery != "" {
		t.path += "?" + u.RawQuery
	}
	return t, u, nil
}

// dialer carries everything one connection attempt needs.
type dialer struct {
	key   identity.SecretKey
	token string
	tls   *tls.Config
	proxy func(*http.Request) (*url.URL, error)
	net   net.Dialer
}

// dial runs one full attempt: TCP (maybe via proxy), TLS, upgrade, login.
func (d *dialer) dial(ctx context.Context, relayURL string) (*websocket.Conn, relayproto.Version, error) {
	t, u, err := resolveTarget(relayURL)
	if err != nil {
		return nil, 0, err
	}
	if d.proxy != nil {
		// ProxyFromEnvironment decides by the request URL's scheme; the
		// WebSocket dial is https-like when TLS is used.
		pu := *u
		pu.Scheme = map[bool]string{true: "https", false: "http"}[t.useTLS]
		if t.proxyURL, err = d.proxy(&http.Request{URL: &pu}); err != nil {
			return nil, 0, fmt.Errorf("relay: proxy selection: %w", err)
		}
	}
	defaultRoots := d.tls == nil || d.tls.RootCAs == nil
	if t.useTLS && defaultRoots {
		// Parsing the system roots takes ~20 ms of CPU: overlap it with
		// the DNS lookup and TCP connect instead of adding it after.
		go DefaultRoots()
	}
	nc, err := d.dialTCP(ctx, t)
	if err != nil {
		return nil, 0, err
	}
	ok := false
	defer func() {
		if !ok {
			nc.Close()
		}
	}()
	// The context bounds the whole attempt, including I/O below.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()

	hdr := http.Header{}
	if d.token != "" {
		hdr.Set(relayproto.AuthorizationHeader, "Bearer "+d.token)
	}
	if t.useTLS {
		tc := &tls.Config{}
		if d.tls != nil {
			tc = d.tls.Clone()
		}
		if tc.ServerName == "" {
			tc.ServerName = t.host
		}
		if defaultRoots {
			tc.RootCAs = DefaultRoots()
		}
		tc.NextProtos = nil // iroh offers no ALPN; the relay speaks HTTP/1.1
		tlsConn := tls.Client(nc, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return nil, 0, fmt.Errorf("relay: TLS: %w", err)
		}
		nc = tlsConn
		cs := tlsConn.ConnectionState()
		pub := d.key.Public()
		if h, err := relayproto.KeyingMaterialHeader(d.key.Sign, pub, cs.ExportKeyingMaterial); err == nil {
			hdr.Set(relayproto.ClientAuthHeader, h)
		}
	}
	ws, proto, err := websocket.ClientHandshake(nc, websocket.ClientRequest{
		Host: t.hostHeader, Path: t.path, Subprotocols: relayproto.SubprotocolOffer, Header: hdr,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("relay: upgrade: %w", err)
	}
	v, known := relayproto.ParseSubprotocol(proto)
	if !known {
		return nil, 0, fmt.Errorf("%w: %q", ErrBadSubprotocol, proto)
	}
	ws.MaxMessageSize = relayproto.MaxFrameSize
	if err := d.login(ws); err != nil {
		return nil, 0, err
	}
	if ctx.Err() != nil {
		return nil, 0, ctx.Err()
	}
	ok = true
	return ws, v, nil
}

// login answers the relay's first frames: ServerChallenge (sign it), then
// ServerConfirmsAuth or ServerDeniesAuth.
func (d *dialer) login(ws *websocket.Conn) error {
	answered := false
	for {
		op, msg, err := ws.ReadMessage()
		if err != nil {
			return fmt.Errorf("relay: login: %w", err)
		}
		if op != websocket.OpBinary {
			continue
		}
		f, err := relayproto.ParseHandshakeFrame(msg, relayproto.RelayToClient)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrLoginProtocol, err)
		}
		switch f := f.(type) {
		case *relayproto.ServerChallenge:
			if answered {
				return fmt.Errorf("%w: second challenge", ErrLoginProtocol)
			}
			answered = true
			auth, err := relayproto.SignChallenge(d.key.Sign, d.key.Public(), f.Challenge)
			if err != nil {
				return err
			}
			if err := writeFrame(ws, auth); err != nil {
				return err
			}
		case *relayproto.ServerConfirmsAuth:
			return nil
		case *relayproto.ServerDeniesAuth:
			return &DeniedError{Reason: f.Reason}
		default:
			return fmt.Errorf("%w: unexpected %v", ErrLoginProtocol, f.Type())
		}
	}
}

func (d *dialer) dialTCP(ctx context.Context, t *dialTarget) (net.Conn, error) {
	addr := t.hostPort
	if t.proxyURL != nil {
		addr = t.proxyURL.Host
		if t.proxyURL.Port() == "" {
			addr = net.JoinHostPort(t.proxyURL.Hostname(), map[bool]string{true: "443", false: "80"}[t.proxyURL.Scheme == "https"])
		}
	}
	nc, err := d.net.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if t.proxyURL == nil {
		return nc, nil
	}
	if t.proxyURL.Scheme == "https" {
		tlsConn := tls.Client(nc, &tls.Config{ServerName: t.proxyURL.Hostname(), RootCAs: DefaultRoots()})
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("%w: TLS to proxy: %v", ErrProxy, err)
		}
		nc = tlsConn
	}
	if err := proxyConnect(ctx, nc, t.hostPort, t.proxyURL); err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

// proxyConnect asks an HTTP proxy to open a tunnel to hostPort.
func proxyConnect(ctx context.Context, nc net.Conn, hostPort string, proxy *url.URL) error {
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	req := "CONNECT " + hostPort + " HTTP/1.1\r\nHost: " + hostPort + "\r\n"
	if ui := proxy.User; ui != nil {
		pw, _ := ui.Password()
		cred := base64.StdEncoding.EncodeToString([]byte(ui.Username() + ":" + pw))
		req += "Proxy-Authorization: Basic " + cred + "\r\n"
	}
	if _, err := nc.Write([]byte(req + "\r\n")); err != nil {
		return fmt.Errorf("%w: %v", ErrProxy, err)
	}
	resp, br, err := websocket.ReadResponseHead(nc, http.MethodConnect)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProxy, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s", ErrProxy, resp.Status)
	}
	if br.Buffered() > 0 { // the relay speaks only after our request
		return fmt.Errorf("%w: unexpected bytes after CONNECT response", ErrProxy)
	}
	return nil
}
