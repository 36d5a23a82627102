package endpoint

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/lookup"
)

// lookupTarget fills in an address that has only the ID from the lookup
// (Options.Lookup or the preset's DNS); other addresses are returned
// unchanged.
func (e *Endpoint) lookupTarget(ctx context.Context, t identity.EndpointAddr) (identity.EndpointAddr, error) {
	if !t.IsEmpty() {
		return t, nil
	}
	if e.resolver == nil {
		return t, fmt.Errorf("%w: %w", ErrNoPath, errNoLookup)
	}
	info, err := e.resolver.Resolve(ctx, t.ID)
	if err != nil {
		return t, fmt.Errorf("endpoint: lookup %s: %w", t.ID.Short(), err)
	}
	e.log.Debug("endpoint: looked up", "peer", t.ID.Short(), "relays", info.Relays, "addrs", info.Addrs)
	t.Addrs, t.Relays = info.Addrs, info.Relays
	return t, nil
}

// addrPublisher is a publisher that applies iroh's address filter itself
// (lookup.PkarrPublisher).
type addrPublisher interface {
	UpdateAddrs(relayURL string, addrs []netip.AddrPort)
}

// publish hands this endpoint's addressing to the publisher: the home
// relay (iroh's default), plus direct addresses (Candidates: interface,
// QAD and mapped addresses) with Options.PublishAddrs. It is called when
// any of them changes.
// The publisher sends it at once if it changed and republishes it on its
// own schedule.
func (e *Endpoint) publish() {
	if e.publisher == nil {
		return
	}
	home := e.HomeRelay()
	if p, ok := e.publisher.(addrPublisher); ok && !e.opts.PublishAddrs {
		p.UpdateAddrs(home, e.Candidates()) // the publisher's filter: iroh's relay-only by default
		return
	}
	info := lookup.EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: e.id}}
	if home != "" {
		info.Relays = []string{home}
	}
	if e.opts.PublishAddrs {
		info.Addrs = e.Candidates()
	}
	if len(info.Relays) == 0 && len(info.Addrs) == 0 {
		return
	}
	e.publisher.Update(info)
}
