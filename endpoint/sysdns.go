package endpoint

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/lookup"
)

// systemDNS is the preset's lookup: the TXT records of
// "_iroh.<z32>.<origin>" through the system resolver, as iroh's
// DnsAddressLookup (which resolves through the OS configuration too).
type systemDNS struct {
	origin string
	r      *net.Resolver // nil: net.DefaultResolver
}

// Resolve implements lookup.Resolver.
func (s *systemDNS) Resolve(ctx context.Context, id identity.EndpointID) (lookup.EndpointInfo, error) {
	r := s.r
	if r == nil {
		r = net.DefaultResolver
	}
	name := lookup.DNSName(id, s.origin) + "."
	txts, err := r.LookupTXT(ctx, name)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return lookup.EndpointInfo{ID: id}, fmt.Errorf("DNS %s: %w", name, lookup.ErrNotFound)
	case err != nil:
		return lookup.EndpointInfo{ID: id}, fmt.Errorf("DNS %s: %w", name, err)
	}
	info := lookup.ParseTXTAttrs(id, txts)
	if len(info.RelayURLs) == 0 && len(info.Addrs) == 0 {
		return info, fmt.Errorf("DNS %s: no relay or address records: %w", name, lookup.ErrNotFound)
	}
	return info, nil
}
