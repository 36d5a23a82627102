package fakegw

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
)

// Config selects what the gateway offers and how it misbehaves.
type Config struct {
	PCP, NATPMP, UPnP bool
	IGDv1             bool       // describe WANIPConnection:1 (no AddAnyPortMapping)
	External          netip.Addr // reported external address (default 5.5.5.1)
	Lifetime          uint32     // granted PCP/NAT-PMP lifetime cap, seconds (0: as asked)

	// Reply hooks see the request and the honest answer and return the
	// datagrams actually sent, in order (none: silence). They may be nil.
	PCPReply    func(req, honest []byte) [][]byte
	NATPMPReply func(req, honest []byte) [][]byte
	SSDPReply   func(honest []byte) []byte
	// Description and SOAP replace the HTTP answers when set.
	Description http.HandlerFunc
	SOAP        http.HandlerFunc
}

// Key names a mapping by protocol and external port.
type Key struct {
	Proto        string // "UDP" or "TCP"
	ExternalPort uint16
}

// Lease is one mapping the gateway holds.
type Lease struct {
	Via          string // "pcp", "natpmp" or "upnp"
	InternalPort uint16
	Lifetime     uint32
}

// Server is a running fake gateway.
type Server struct {
	Addr     netip.Addr     // 127.0.0.1
	PMPPort  uint16         // PCP and NAT-PMP
	SSDP     netip.AddrPort // unicast SSDP target
	HTTPPort uint16

	cfg  Config
	pmp  *net.UDPConn
	ssdp *net.UDPConn
	http *http.Server
	ln   net.Listener

	mu       sync.Mutex
	leases   map[Key]Lease
	requests map[string]int // per protocol and action
}

// New starts a gateway on 127.0.0.1 that stops when the test ends.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	if !cfg.External.IsValid() {
		cfg.External = netip.MustParseAddr("5.5.5.1")
	}
	s := &Server{Addr: netip.MustParseAddr("127.0.0.1"), cfg: cfg, leases: map[Key]Lease{}, requests: map[string]int{}}
	var err error
	if s.pmp, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	if s.ssdp, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	if s.ln, err = net.Listen("tcp4", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	s.PMPPort = uint16(s.pmp.LocalAddr().(*net.UDPAddr).Port)
	s.SSDP = s.ssdp.LocalAddr().(*net.UDPAddr).AddrPort()
	s.HTTPPort = uint16(s.ln.Addr().(*net.TCPAddr).Port)
	s.http = &http.Server{Handler: s.httpHandler()}
	go s.servePMP()
	go s.serveSSDP()
	go func() { _ = s.http.Serve(s.ln) }()
	t.Cleanup(func() {
		_ = s.pmp.Close()
		_ = s.ssdp.Close()
		_ = s.http.Close()
	})
	return s
}

// Leases returns a copy of the current mappings.
func (s *Server) Leases() map[Key]Lease {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[Key]Lease, len(s.leases))
	for k, v := range s.leases {
		out[k] = v
	}
	return out
}

// Requests returns how many requests of a kind arrived ("pcp-map",
// "pcp-announce", "natpmp-map", "natpmp-addr", "ssdp", "desc", "soap-<Action>").
func (s *Server) Requests(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[kind]
}

func (s *Server) count(kind string) {
	s.mu.Lock()
	s.requests[kind]++
	s.mu.Unlock()
}

func (s *Server) grant(asked uint32) uint32 {
	if s.cfg.Lifetime != 0 && asked > s.cfg.Lifetime {
		return s.cfg.Lifetime
	}
	return asked
}

// setLease records or (lifetime 0) removes a mapping.
func (s *Server) setLease(k Key, l Lease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.Lifetime == 0 && l.Via != "upnp" {
		delete(s.leases, k)
		return
	}
	s.leases[k] = l
}

// findLease returns the external port already mapped to internalPort.
func (s *Server) findLease(proto string, internalPort uint16) (uint16, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, l := range s.leases {
		if k.Proto == proto && l.InternalPort == internalPort {
			return k.ExternalPort, true
		}
	}
	return 0, false
}

func (s *Server) deleteLease(k Key) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.leases[k]
	delete(s.leases, k)
	return ok
}
