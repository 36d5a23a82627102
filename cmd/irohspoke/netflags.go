package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/alkdev/irohspoke/endpoint"
	addrlookup "github.com/alkdev/irohspoke/lookup"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

// netFlags are the endpoint flags dial and hub share: a preset (iroh's
// n0 by default, so that no flag is needed to reach the internet) and
// overrides of each of its parts.
type netFlags struct {
	preset       *string
	relays       stringList
	lookup       optBool
	dns          *string
	dnsOrigin    *string
	pkarr        *string
	publish      optBool
	publishAddrs *bool
	qad          optBool
	portmap      optBool
	qadPort      *uint
	caFile       *string
	tokenFile    *string
	keylog       *string
	multipath    *bool
	logLevel     *string
}

func addNetFlags(fs *flag.FlagSet) *netFlags {
	f := &netFlags{
		preset:       fs.String("preset", "n0", "endpoint defaults `NAME`: n0 (n0's relays, lookup and publishing, as iroh), n0-staging or minimal (nothing leaves the machine unasked)"),
		dns:          fs.String("dns", "", "look peers up with the DNS server `HOST[:PORT]` instead of the system's"),
		dnsOrigin:    fs.String("dns-origin", "", "DNS lookup zone `NAME` (the preset's, else "+defaultDNSOrigin+")"),
		pkarr:        fs.String("pkarr", "", "the pkarr relay `URL` to publish to (and look peers up at), instead of the preset's"),
		publishAddrs: fs.Bool("publish-addrs", false, "publish our direct addresses too, not only the home relay (iroh publishes the relay only)"),
		qadPort:      fs.Uint("qad-port", quic.DefaultQADPort, "the QAD UDP `PORT` of relays given with --relay"),
		caFile:       fs.String("relay-ca", "", "also trust relay certificates issued by the CAs in `FILE` (PEM), besides the system roots"),
		tokenFile:    fs.String("relay-token-file", "", "present the bearer token in `FILE` to relays"),
		keylog:       fs.String("keylog", "", "append TLS secrets to `FILE` (NSS key log format, for Wireshark); SSLKEYLOGFILE alone logs nothing"),
		multipath:    fs.Bool("multipath", true, "negotiate multipath and hole punching: a relayed connection moves to a direct path when one opens"),
		logLevel:     fs.String("log-level", "", "write diagnostics to stderr as JSON lines at `LEVEL`: debug, info, warn, error or off (dial: off, hub: info)"),
	}
	fs.Var(&f.relays, "relay", "use the relay at `URL` instead of the preset's relays (repeatable; the nearest becomes home)")
	fs.Var(&f.lookup, "lookup", "look peers up by EndpointId (`BOOL`, default: the preset's)")
	fs.Var(&f.publish, "publish", "publish our home relay to the pkarr relay (`BOOL`, default: the preset's)")
	fs.Var(&f.qad, "qad", "learn our public address by QUIC Address Discovery at the home relay and offer it for hole punching (`BOOL`, default: the preset's; given, it also asks plain-HTTP --relay hosts)")
	fs.Var(&f.portmap, "portmap", "ask the home gateway for a port mapping (PCP, NAT-PMP, UPnP) and offer it for hole punching (`BOOL`, default: the preset's)")
	return f
}

// netSetup is what netFlags resolve to: the endpoint options and the
// lookup zone for error hints. close releases the key log file.
type netSetup struct {
	opts   endpoint.Options
	lookup string
	log    logLevel // --log-level (unset: the command's default)
	close  func()
}

// resolve checks the flags and builds the endpoint options. Bad values
// are usage errors; unreadable files are runtime errors.
func (f *netFlags) resolve() (*netSetup, error) {
	p, err := endpoint.PresetByName(*f.preset)
	if err != nil {
		return nil, usageErrorf("--preset: %s", describe(err))
	}
	// The CLI always binds dual-stack (falling back to IPv4), so that
	// --addr may name an IPv6 hub whatever the preset.
	p.DualStack = true
	if *f.qadPort == 0 || *f.qadPort > 65535 {
		return nil, usageErrorf("--qad-port must be 1-65535")
	}
	if f.qad.set {
		p.QAD = f.qad.value
	}
	if f.portmap.set {
		p.PortMapping = f.portmap.value
	}
	if len(f.relays) > 0 {
		if p.Relays, err = relayNodes(f.relays, uint16(*f.qadPort), f.qad.set && f.qad.value); err != nil {
			return nil, err
		}
	}
	if f.qad.set && f.qad.value && len(p.Relays) == 0 {
		return nil, usageErrorf("--qad needs a relay (--relay, or a preset with relays)")
	}
	if *f.pkarr != "" {
		if err := checkPkarrURL(*f.pkarr); err != nil {
			return nil, err
		}
		p.PkarrURL = *f.pkarr
	}
	if f.publish.set {
		p.Publish = f.publish.value
	}
	if p.Publish && p.PkarrURL == "" && f.publish.set {
		return nil, usageErrorf("--publish needs a pkarr relay (--pkarr URL)")
	}
	lvl, err := parseLogLevel(*f.logLevel)
	if err != nil {
		return nil, err
	}
	s := &netSetup{log: lvl, close: func() {}}
	if err := f.resolveLookup(&p, s); err != nil {
		return nil, err
	}
	s.opts.Preset, s.opts.PublishAddrs, s.opts.DisableMultipath = p, *f.publishAddrs, !*f.multipath
	return s, f.resolveFiles(s)
}

// resolveLookup applies --lookup, --dns, --dns-origin and --pkarr.
func (f *netFlags) resolveLookup(p *endpoint.Preset, s *netSetup) error {
	if *f.dnsOrigin != "" {
		if err := addrlookup.CheckOrigin(*f.dnsOrigin); err != nil {
			return usageErrorf("invalid --dns-origin: %s", describe(err))
		}
		p.DNSOrigin = *f.dnsOrigin
	}
	if f.lookup.set && !f.lookup.value {
		if *f.dns != "" || *f.dnsOrigin != "" {
			return usageErrorf("--dns and --dns-origin need lookup (drop --lookup=false)")
		}
		p.DNSOrigin = ""
		return nil
	}
	origin := p.DNSOrigin
	if origin == "" && (*f.dns != "" || f.lookup.set) {
		origin = defaultDNSOrigin // a preset without lookup, asked to look up
	}
	var rs addrlookup.Resolvers
	switch {
	case *f.dns != "":
		r, err := addrlookup.NewDNSResolver(origin, *f.dns)
		if err != nil {
			return usageErrorf("invalid --dns: %s", describe(err))
		}
		rs = append(rs, r)
	case origin != "" && (*f.pkarr != "" || p.DNSOrigin == ""):
		// The preset's DNS lookup is replaced by Options.Lookup below, so
		// it is rebuilt here next to pkarr.
		r, err := addrlookup.SystemDNSResolver(origin)
		if err != nil {
			return usageErrorf("invalid --dns-origin: %s", describe(err))
		}
		rs = append(rs, r)
	}
	if *f.pkarr != "" {
		rs = append(rs, &addrlookup.PkarrResolver{BaseURL: *f.pkarr})
	}
	var where []string
	if origin != "" {
		where = append(where, "DNS zone "+origin)
	}
	if *f.pkarr != "" {
		where = append(where, "pkarr relay "+*f.pkarr)
	}
	s.lookup = strings.Join(where, " and ")
	if len(rs) > 0 {
		s.opts.Lookup = rs
	}
	return nil
}

// resolveFiles reads --relay-ca and --relay-token-file and opens --keylog.
func (f *netFlags) resolveFiles(s *netSetup) error {
	if *f.caFile != "" {
		pool, err := relayRoots(*f.caFile)
		if err != nil {
			return err
		}
		s.opts.RelayTLS = &tls.Config{RootCAs: pool}
	}
	if *f.tokenFile != "" {
		tok, err := readOneToken(*f.tokenFile)
		if err != nil {
			return fmt.Errorf("--relay-token-file: %w", err)
		}
		s.opts.RelayToken = tok
	}
	s.opts.QUIC = &quic.Config{}
	if *f.keylog != "" {
		w, err := os.OpenFile(*f.keylog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("--keylog: %w", err)
		}
		s.opts.QUIC.KeyLogWriter = w
		s.close = func() { w.Close() }
	}
	return nil
}

// relayNodes turns --relay URLs into a relay map. Plain-HTTP relays get QAD
// only when asked (qadPlain: --qad given): QAD's QUIC brings its own TLS,
// so the relay's host may serve it (as iroh assumes of every relay), but
// "irohspoke relay" over HTTP cannot, and probing it would only fail.
func relayNodes(urls []string, qadPort uint16, qadPlain bool) ([]endpoint.RelayNode, error) {
	var nodes []endpoint.RelayNode
	for _, u := range urls {
		norm, err := normalizeRelay(u)
		if err != nil {
			return nil, err
		}
		n := endpoint.RelayNode{URL: norm}
		if qadPlain || strings.HasPrefix(norm, "https://") || strings.HasPrefix(norm, "wss://") {
			n.QADPort = qadPort
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// checkPkarrURL accepts http and https URLs with a host.
func checkPkarrURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return usageErrorf("invalid --pkarr %q: %s", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("invalid --pkarr %q: want an http:// or https:// URL", s)
	}
	return nil
}

// relayRoots is the relay trust of --relay-ca: the default roots (the
// system's plus the bundled fallback) and the CAs in file. Adding, not
// replacing, keeps public relays working next to a private one.
func relayRoots(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, usageErrorf("--relay-ca: %s", describe(err))
	}
	pool := relay.DefaultRoots().Clone()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, usageErrorf("--relay-ca %s: no PEM certificate", file)
	}
	return pool, nil
}

// optBool is a boolean flag that remembers whether it was given, so that
// an absent flag leaves the preset's value.
type optBool struct{ set, value bool }

func (b *optBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.value)
}

func (b *optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("invalid boolean value %q", s)
	}
	b.set, b.value = true, v
	return nil
}

func (b *optBool) IsBoolFlag() bool { return true }
