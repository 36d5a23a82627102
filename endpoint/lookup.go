package endpoint

import (
	"context"
	"fmt"

	"github.com/alkdev/irohspoke/identity"

	"github.com/alkdev/irohspoke/lookup"
)

// lookupTarget fills in an address that has only the ID from
// Options.Lookup; other addresses are returned unchanged.
func (e *Endpoint) lookupTarget(ctx context.Context, t identity.EndpointAddr) (identity.EndpointAddr, error) {
	if !t.IsEmpty() || e.opts.Lookup == nil {
		return t, nil
	}
	info, err := e.opts.Lookup.Resolve(ctx, t.ID)
	if err != nil {
		return t, fmt.Errorf("endpoint: lookup %s: %w", t.ID.Short(), err)
	}
	e.log.Debug("endpoint: looked up", "peer", t.ID.Short(), "relays", info.RelayURLs, "addrs", info.Addrs)
	t.Addrs, t.Relays = info.Addrs, info.RelayURLs
	return t, nil
}

// publish hands this endpoint's addressing to Options.Publisher.
func (e *Endpoint) publish() {
	if e.opts.Publisher == nil {
		return
	}
	info := lookup.EndpointInfo{ID: e.id}
	if e.home != "" {
		info.RelayURLs = []string{e.home}
	}
	if e.opts.PublishAddrs {
		info.Addrs = e.Addrs()
	}
	if len(info.RelayURLs) == 0 && len(info.Addrs) == 0 {
		return
	}
	e.opts.Publisher.Update(info)
}
