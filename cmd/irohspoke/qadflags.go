package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"os"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/quic"
)

// relayFlags are the dial and hub flags for QUIC Address Discovery against
// the relay and for trusting a private relay CA.
type relayFlags struct {
	qad     *bool
	qadPort *uint
	caFile  *string
}

func addRelayFlags(fs *flag.FlagSet) *relayFlags {
	return &relayFlags{
		qad:     fs.Bool("qad", false, "learn our public address by QUIC Address Discovery at the relay (https relays) and offer it for hole punching"),
		qadPort: fs.Uint("qad-port", quic.DefaultQADPort, "the relay's QAD UDP `PORT`"),
		caFile:  fs.String("relay-ca", "", "trust the relay certificates issued by the CA in `FILE` (PEM) instead of the system roots"),
	}
}

// apply sets opts' QAD and relay TLS fields; QAD needs opts.RelayURL.
func (f *relayFlags) apply(opts *endpoint.Options) error {
	if *f.qadPort == 0 || *f.qadPort > 65535 {
		return usageErrorf("--qad-port must be 1-65535")
	}
	if *f.qad {
		if opts.RelayURL == "" {
			return usageErrorf("--qad needs a relay (--relay or a ticket with one)")
		}
		opts.RelayQAD, opts.RelayQADPort = true, uint16(*f.qadPort)
	}
	if *f.caFile != "" {
		pem, err := os.ReadFile(*f.caFile)
		if err != nil {
			return usageErrorf("--relay-ca: %s", describe(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return usageErrorf("--relay-ca %s: no PEM certificate", *f.caFile)
		}
		opts.RelayTLS = &tls.Config{RootCAs: pool}
	}
	return nil
}

// reportPublicAddr calls report once the endpoint's QAD has learned its
// public address, unless ctx ends first.
func reportPublicAddr(ctx context.Context, ep *endpoint.Endpoint, report func(addr string)) {
	if !ep.QADStatus().Enabled {
		return
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if ap, ok := ep.PublicAddr(); ok {
			report(ap.String())
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}
