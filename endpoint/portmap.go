package endpoint

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/nat/portmap"
)

// PortMapStatus is what port mapping at the home gateway achieved.
type PortMapStatus struct {
	// Enabled: the preset maps (Preset.PortMapping, not switched off with
	// Options.DisablePortMapping) and the socket can be mapped (not
	// loopback, not IPv6-only).
	Enabled bool
	// External is our mapped public address, zero while there is none.
	External netip.AddrPort
	// Protocol is "pcp", "nat-pmp" or "upnp"; "" without a mapping.
	Protocol string
}

// portMapping runs a portmap.Mapper for the endpoint's UDP port.
type portMapping struct {
	m    *portmap.Mapper
	done chan struct{} // closed when the watcher ends (after Close)
}

// startPortMapping starts the mapper for our socket; a socket the mapper
// cannot map (loopback, IPv6-only) gets none.
func (e *Endpoint) startPortMapping() error {
	logf := func(format string, args ...any) { e.log.Debug("endpoint: portmap: " + fmt.Sprintf(format, args...)) }
	m, err := portmap.New(e.LocalAddr(), portmap.Options{Logf: logf})
	if err != nil {
		return fmt.Errorf("endpoint: port mapping: %w", err)
	}
	if m.Inert() {
		return m.Close()
	}
	e.pmap = &portMapping{m: m, done: make(chan struct{})}
	go e.watchMapping()
	return nil
}

// watchMapping follows the mapper's events until it is closed: a new
// external address is a new candidate (path managers see the version
// change) and is published. Without net reports (a pinned or only relay,
// or none) it also asks for a mapping on iroh's report cadence, as iroh
// runs a report (and procures a mapping) every 20-26 s.
func (e *Endpoint) watchMapping() {
	p := e.pmap
	defer close(p.done)
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	var procure <-chan time.Time
	if !e.homes.choosing() {
		t := time.NewTicker(nextReportDelay(rng))
		defer t.Stop()
		procure = t.C
	}
	for {
		select {
		case ev, ok := <-p.m.Events():
			if !ok {
				return
			}
			e.log.Info("endpoint: port mapping", "external", ev.External, "protocol", ev.Protocol.String())
			e.candidatesChanged()
			if !e.sock.closing.Load() {
				e.publish()
			}
		case <-procure:
			p.m.Procure()
		}
	}
}

// procureMapping asks for a mapping if there is none (every net report).
func (e *Endpoint) procureMapping() {
	if e.pmap != nil {
		e.pmap.m.Procure()
	}
}

// stopPortMapping deletes the mapping at the gateway and waits for the
// watcher.
func (e *Endpoint) stopPortMapping() {
	if e.pmap == nil {
		return
	}
	if err := e.pmap.m.Close(); err != nil {
		e.log.Debug("endpoint: releasing the port mapping", "err", err)
	}
	<-e.pmap.done
}

// PortMap reports the port mapping at the home gateway.
func (e *Endpoint) PortMap() PortMapStatus {
	if e.pmap == nil {
		return PortMapStatus{}
	}
	cur := e.pmap.m.Current()
	st := PortMapStatus{Enabled: true, External: cur.External}
	if cur.External.IsValid() {
		st.Protocol = cur.Protocol.String()
	}
	return st
}

// mappedAddr is the mapped external address, if any.
func (e *Endpoint) mappedAddr() (netip.AddrPort, bool) {
	if e.pmap == nil {
		return netip.AddrPort{}, false
	}
	ap := e.pmap.m.Current().External
	return ap, ap.IsValid()
}

// mappedVersion counts changes of the mapped address.
func (e *Endpoint) mappedVersion() uint64 {
	if e.pmap == nil {
		return 0
	}
	return e.pmap.m.Current().Version
}
