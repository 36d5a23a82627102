package endpoint

import (
	"context"
	"fmt"

	"github.com/alkdev/irohspoke/lookup"
)

// lookupTarget fills in a Target that has neither direct addresses nor a
// relay URL from Options.Lookup; other targets are returned unchanged.
func (e *Endpoint) lookupTarget(ctx context.Context, t Target) (Target, error) {
	if len(t.Addrs) > 0 || t.RelayURL != "" || e.opts.Lookup == nil {
		return t, nil
	}
	info, err := e.opts.Lookup.Resolve(ctx, t.ID)
	if err != nil {
		return t, fmt.Errorf("endpoint: lookup %s: %w", t.ID.Short(), err)
	}
	e.log.Debug("endpoint: looked up", "peer", t.ID.Short(), "relays", info.RelayURLs, "addrs", info.Addrs)
	t.Addrs = info.Addrs
	if len(info.RelayURLs) > 0 {
		t.RelayURL = info.RelayURLs[0]
	}
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
