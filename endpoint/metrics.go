package endpoint

import (
	"errors"
	"expvar"
	"sync"
	"sync/atomic"
)

// publishMu makes PublishExpvar's check-then-publish atomic, so that
// expvar.Publish never panics on a duplicate name.
var publishMu sync.Mutex

// ErrExpvarExists: PublishExpvar was given a name already in use.
var ErrExpvarExists = errors.New("endpoint: expvar name already published")

// Metrics count what an Endpoint did. Names follow iroh's "magicsock"
// metrics group where one exists; the rest are ours.
type Metrics struct {
	SendIPv4       atomic.Int64 // send_ipv4: UDP datagrams sent to IPv4 peers
	SendIPv6       atomic.Int64 // send_ipv6
	SendRelay      atomic.Int64 // send_relay: datagrams queued to a relay
	SendRelayError atomic.Int64 // send_relay_error: dropped (full queue, bad relay URL)
	RecvDataIPv4   atomic.Int64 // recv_data_ipv4
	RecvDataIPv6   atomic.Int64 // recv_data_ipv6
	RecvDataRelay  atomic.Int64 // recv_data_relay
	RecvDatagrams  atomic.Int64 // recv_datagrams: everything handed to QUIC
	RecvDropped    atomic.Int64 // recv_dropped (ours): relay datagrams too large for QUIC

	ConnsOpened atomic.Int64 // conns_opened: dialed or accepted connections
	ConnsClosed atomic.Int64 // conns_closed
	ConnsDirect atomic.Int64 // conns_direct: opened on a direct UDP path
	ConnsRelay  atomic.Int64 // conns_relay (ours): opened on a relay path

	DialsDirectWon atomic.Int64 // dials_direct_won (ours): races the direct path won
	DialsRelayWon  atomic.Int64 // dials_relay_won (ours)
	DialsFailed    atomic.Int64 // dials_failed (ours)

	RelayEndpointGone atomic.Int64 // relay_endpoint_gone (ours): EndpointGone notices

	HolepunchRounds atomic.Int64 // holepunch_rounds (ours): NAT traversal rounds started
	PathsUpgraded   atomic.Int64 // paths_upgraded (ours): data moved from a relay to a direct path

	QADProbes atomic.Int64 // qad_probes (ours): QAD connections attempted (reports and the home relay's)
	QADErrors atomic.Int64 // qad_errors (ours): QAD attempts that failed

	NetReports         atomic.Int64 // reports (iroh's net_report group): relay latency reports
	NetReportsFull     atomic.Int64 // reports_full: of which full
	RelayHomeChange    atomic.Int64 // relay_home_change: home relay set or changed
	RelayFailovers     atomic.Int64 // relay_failovers (ours): home moved because its connection stayed down
	RelayPathsRepaired atomic.Int64 // relay_paths_repaired (ours): relay paths opened to replace ones whose relay went down
	RelayRechecks      atomic.Int64 // relay_rechecks (ours): relay paths challenged again when their relay connection came back

	NetworkChanges atomic.Int64 // network_changes (ours): NetworkChanged calls (monitor events)
	PathsMoved     atomic.Int64 // paths_moved (ours): direct paths replaced by one from our new address
}

func (m *Metrics) fields() map[string]*atomic.Int64 {
	return map[string]*atomic.Int64{
		"send_ipv4":            &m.SendIPv4,
		"send_ipv6":            &m.SendIPv6,
		"send_relay":           &m.SendRelay,
		"send_relay_error":     &m.SendRelayError,
		"recv_data_ipv4":       &m.RecvDataIPv4,
		"recv_data_ipv6":       &m.RecvDataIPv6,
		"recv_data_relay":      &m.RecvDataRelay,
		"recv_datagrams":       &m.RecvDatagrams,
		"recv_dropped":         &m.RecvDropped,
		"conns_opened":         &m.ConnsOpened,
		"conns_closed":         &m.ConnsClosed,
		"conns_direct":         &m.ConnsDirect,
		"conns_relay":          &m.ConnsRelay,
		"dials_direct_won":     &m.DialsDirectWon,
		"dials_relay_won":      &m.DialsRelayWon,
		"dials_failed":         &m.DialsFailed,
		"relay_endpoint_gone":  &m.RelayEndpointGone,
		"holepunch_rounds":     &m.HolepunchRounds,
		"paths_upgraded":       &m.PathsUpgraded,
		"qad_probes":           &m.QADProbes,
		"qad_errors":           &m.QADErrors,
		"reports":              &m.NetReports,
		"reports_full":         &m.NetReportsFull,
		"relay_home_change":    &m.RelayHomeChange,
		"relay_failovers":      &m.RelayFailovers,
		"network_changes":      &m.NetworkChanges,
		"paths_moved":          &m.PathsMoved,
		"relay_paths_repaired": &m.RelayPathsRepaired,
		"relay_rechecks":       &m.RelayRechecks,
	}
}

// Expvar returns the metrics as an (unpublished) expvar map whose values
// read the live counters, plus "home_relay" (URL) and "relay_latency_ms"
// (each relay's latency in the last report, 0 for no answer).
func (e *Endpoint) Expvar() *expvar.Map {
	m := new(expvar.Map).Init()
	for name, c := range e.metrics.fields() {
		m.Set(name, expvar.Func(func() any { return c.Load() }))
	}
	m.Set("home_relay", expvar.Func(func() any { return e.HomeRelay() }))
	m.Set("relay_latency_ms", expvar.Func(func() any {
		lat := make(map[string]float64)
		for _, rl := range e.NetReport().Relays {
			lat[rl.URL] = float64(rl.Latency.Microseconds()) / 1000
		}
		return lat
	}))
	return m
}

// PublishExpvar publishes the metrics under name (e.g. "magicsock").
func (e *Endpoint) PublishExpvar(name string) error {
	publishMu.Lock()
	defer publishMu.Unlock()
	if expvar.Get(name) != nil {
		return ErrExpvarExists
	}
	expvar.Publish(name, e.Expvar())
	return nil
}

// Metrics returns the endpoint's live counters.
func (e *Endpoint) Metrics() *Metrics { return e.metrics }
