//go:build linux

package portmaplab_test

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/nat/portmap"
)

// childSpec, when set, makes this binary the mapper side of a lab test
// (TestMapperChild), running inside the LAN namespace.
var childSpec = flag.String("portmaplab.child", "", "JSON childConfig: run as the mapper inside the LAN namespace")

// childConfig is what the parent asks the child to do.
type childConfig struct {
	Port     uint16
	Lifetime time.Duration
	Only     string // "pcp", "nat-pmp" or "upnp": disable the others
}

// childMsg is one JSON line from the child.
type childMsg struct {
	Kind     string // ready, event, recv, stats, closed, log
	External string `json:",omitempty"`
	Protocol string `json:",omitempty"`
	Version  uint64 `json:",omitempty"`
	Data     string `json:",omitempty"`
	Stats    *portmap.Stats
	Err      string `json:",omitempty"`
}

type lineWriter struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (w *lineWriter) send(m childMsg) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.enc.Encode(m)
}

// TestMapperChild is the child's whole life: map the port, report events
// and datagrams, answer "stats" and "close" on stdin.
func TestMapperChild(t *testing.T) {
	if *childSpec == "" {
		t.Skip("only runs re-executed by the lab tests")
	}
	var cfg childConfig
	if err := json.Unmarshal([]byte(*childSpec), &cfg); err != nil {
		t.Fatal(err)
	}
	out := &lineWriter{enc: json.NewEncoder(os.Stdout)}
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{Port: int(cfg.Port)})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := sock.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			out.send(childMsg{Kind: "recv", Data: string(buf[:n]), External: from.String()})
		}
	}()
	opts := portmap.Options{
		Lifetime:      cfg.Lifetime,
		DisablePCP:    cfg.Only != "" && cfg.Only != portmap.PCP.String(),
		DisableNATPMP: cfg.Only != "" && cfg.Only != portmap.NATPMP.String(),
		DisableUPnP:   cfg.Only != "" && cfg.Only != portmap.UPnP.String(),
		Logf:          func(f string, a ...any) { out.send(childMsg{Kind: "log", Data: fmt.Sprintf(f, a...)}) },
	}
	local := sock.LocalAddr().(*net.UDPAddr).AddrPort()
	m, err := portmap.New(netip.AddrPortFrom(netip.IPv4Unspecified(), local.Port()), opts)
	if err != nil {
		t.Fatal(err)
	}
	eventsDone := make(chan struct{})
	go func() {
		defer close(eventsDone)
		for e := range m.Events() {
			ext := ""
			if e.External.IsValid() {
				ext = e.External.String()
			}
			out.send(childMsg{Kind: "event", External: ext, Protocol: e.Protocol.String(), Version: e.Version})
		}
	}()
	out.send(childMsg{Kind: "ready"})
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "stats":
			s := m.Stats()
			out.send(childMsg{Kind: "stats", Stats: &s})
		case "close":
			msg := childMsg{Kind: "closed"}
			if err := m.Close(); err != nil {
				msg.Err = err.Error()
			}
			<-eventsDone // the last event goes out before "closed"
			out.send(msg)
			return
		}
	}
}
