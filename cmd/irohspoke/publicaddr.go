package main

import (
	"context"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
)

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
