package lookup

import "time"

// ServerLimits bound what clients can make a Server hold or send. A
// client is one IPv4 address or one IPv6 /64 for connection caps; DNS
// response rate limiting counts per IPv4 /24 or IPv6 /56, as spoofed
// floods spread over neighbouring addresses.
type ServerLimits struct {
	// MaxHTTPConns and MaxHTTPConnsPerClient cap open pkarr API
	// connections (DefaultMaxHTTPConns, DefaultMaxHTTPConnsPerClient).
	MaxHTTPConns, MaxHTTPConnsPerClient int
	// MaxDNSTCPConns and MaxDNSTCPConnsPerClient cap DNS-over-TCP
	// connections (DefaultMaxDNSTCPConns, DefaultMaxDNSTCPConnsPerClient);
	// when all are taken a newcomer evicts the longest idle one.
	MaxDNSTCPConns, MaxDNSTCPConnsPerClient int
	// DNSResponseRate is how many UDP responses per second a client
	// prefix gets after a burst of DNSResponseBurst
	// (DefaultDNSResponseRate, twice the rate); past it, every second
	// response is a bare truncated one (so real clients retry over TCP)
	// and the rest are dropped. Negative disables the limit.
	DNSResponseRate, DNSResponseBurst int
}

// Default limits. An idle keep-alive connection costs the server about
// 10 KB, so the HTTP cap is a few tens of MB at worst.
const (
	DefaultMaxHTTPConns            = 1024
	DefaultMaxHTTPConnsPerClient   = 16
	DefaultMaxDNSTCPConns          = 256
	DefaultMaxDNSTCPConnsPerClient = 8
	DefaultDNSResponseRate         = 20
)

// HTTP timeouts of HTTPServer: a request (headers and its at most
// 1104-byte body) must arrive within HTTPReadTimeout, and a keep-alive
// connection may idle for HTTPIdleTimeout.
const (
	HTTPReadHeaderTimeout = 5 * time.Second
	HTTPReadTimeout       = 10 * time.Second
	HTTPWriteTimeout      = 10 * time.Second
	HTTPIdleTimeout       = 30 * time.Second
	httpMaxHeaderBytes    = 16 << 10
)

// serverTimeouts are the HTTP and DNS-over-TCP timeouts; tests shorten
// them.
type serverTimeouts struct {
	readHeader, read, write, idle time.Duration
	dnsTCPIdle                    time.Duration
}

var defaultTimeouts = serverTimeouts{
	readHeader: HTTPReadHeaderTimeout, read: HTTPReadTimeout, write: HTTPWriteTimeout,
	idle: HTTPIdleTimeout, dnsTCPIdle: dnsTCPIdleTimeout,
}

func (l ServerLimits) withDefaults() ServerLimits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxHTTPConns, DefaultMaxHTTPConns)
	def(&l.MaxHTTPConnsPerClient, DefaultMaxHTTPConnsPerClient)
	def(&l.MaxDNSTCPConns, DefaultMaxDNSTCPConns)
	def(&l.MaxDNSTCPConnsPerClient, DefaultMaxDNSTCPConnsPerClient)
	if l.DNSResponseRate == 0 {
		l.DNSResponseRate = DefaultDNSResponseRate
	}
	if l.DNSResponseBurst <= 0 {
		l.DNSResponseBurst = 2 * max(l.DNSResponseRate, 1)
	}
	return l
}
