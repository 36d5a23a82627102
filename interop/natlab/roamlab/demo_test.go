//go:build linux

package roamlab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/interop/natlab/roamlab"
)

// gatewayCounters is an nftables table on a router that counts every
// packet arriving from its LAN, before anything else sees it, and
// separately those to the port mapping ports (PCP and NAT-PMP 5351, SSDP
// 1900).
const gatewayCounters = `table inet gwcount {
	counter fromlan {
	}
	counter mapping {
	}
	chain pre {
		type filter hook prerouting priority -400; policy accept;
		iifname "lan" counter name "fromlan"
		iifname "lan" udp dport { 1900, 5351 } counter name "mapping"
	}
}
`

// TestDemoSendsNothingToTheGateway: "irohspoke demo" runs in a namespace
// whose default gateway is a router that only counts what reaches it
// (no miniupnpd, no NAT beyond it that leads anywhere). The demo talks on
// loopback only: not one packet may reach the gateway, in particular no
// port mapping request and no SSDP search. The host's uplink has IPv6
// off, so the kernel's own neighbour discovery does not count. One
// datagram sent to the gateway afterwards shows the counter works.
func TestDemoSendsNothingToTheGateway(t *testing.T) {
	lab := roamlab.New(t)
	gw := lab.Router(t, "gw", roamlab.RouterSpec{Kind: natlab.EndpointIndependent})
	host := lab.Host(t, "demo")
	uplink := lab.Attach(t, host, gw)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := host.Exec(ctx, "sysctl", "-qw", "net.ipv6.conf.up-gw.disable_ipv6=1"); err != nil {
		t.Fatal(err)
	}
	if err := uplink.Up(); err != nil {
		t.Fatal(err)
	}
	nft := gw.Command(ctx, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(gatewayCounters)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	out, err := host.Exec(ctx, natlab.Irohspoke(t), "demo", "--events", "200")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	all, portmap := counter(ctx, t, gw, "fromlan"), counter(ctx, t, gw, "mapping")
	if all != 0 || portmap != 0 {
		t.Fatalf("the demo sent %d packets to the gateway (%d to ports 1900/5351)\n%s", all, portmap, out)
	}
	// The control: a datagram the gateway must count.
	gwAddr := netip.AddrPortFrom(gw.LAN.Addr().Next(), 5351)
	err = host.Do(func() error {
		c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(gwAddr))
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte{0, 0})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if all, portmap := counter(ctx, t, gw, "fromlan"), counter(ctx, t, gw, "mapping"); all != 1 || portmap != 1 {
		t.Fatalf("control datagram counted %d (portmap %d), want 1", all, portmap)
	}
	t.Logf("demo (%d bytes of output): 0 packets reached the gateway", len(out))
}

// counter reads the packet count of a named counter of table gwcount.
func counter(ctx context.Context, t *testing.T, r *roamlab.Router, name string) int {
	t.Helper()
	out, err := r.Exec(ctx, "nft", "-j", "list", "counter", "inet", "gwcount", name)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Nftables []struct {
			Counter *struct{ Packets int } `json:"counter"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("nft counter %s: %v: %s", name, err, out)
	}
	for _, o := range doc.Nftables {
		if o.Counter != nil {
			return o.Counter.Packets
		}
	}
	t.Fatalf("nft printed no counter %s: %s", name, fmt.Sprint(string(out)))
	return 0
}
