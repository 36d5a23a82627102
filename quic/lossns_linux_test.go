//go:build linux

package quic

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
)

// netnsPair is two network namespaces joined by a veth pair, where each
// side drops a share of the UDP datagrams it receives: nftables numgen on
// the input hook (this kernel has no netem, and a drop on output would
// give the sender EPERM instead of a loss). Sockets are real UDP sockets,
// opened from the test process inside either namespace.
type netnsPair struct {
	tb             testing.TB
	client, server *natlab.Host
}

// netnsLossTable holds the loss rule in both namespaces.
const netnsLossTable = "irohspoke_loss"

// netnsPrefix matches the NAT lab's, whose cleanup removes namespaces a
// killed run left behind.
const netnsPrefix = "irohspoke-lab-loss-"

// requireNetns skips without root, ip or nft, or fails when CI=true.
func requireNetns(tb testing.TB) {
	tb.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("netns loss runs need %v", missing)
	}
	tb.Skipf("netns loss runs need %v", missing)
}

func newNetnsPair(tb testing.TB) *netnsPair {
	tb.Helper()
	requireNetns(tb)
	id := make([]byte, 4)
	rand.Read(id)
	nc, ns := netnsPrefix+hex.EncodeToString(id)+"c", netnsPrefix+hex.EncodeToString(id)+"s"
	ca, sa := netip.MustParseAddr("10.99.0.1"), netip.MustParseAddr("10.99.0.2")
	p := &netnsPair{tb: tb, client: natlab.NewHost("client", nc, ca), server: natlab.NewHost("server", ns, sa)}
	for _, n := range []string{nc, ns} {
		p.ip("netns", "add", n)
		tb.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n).Run() })
	}
	p.ip("-n", nc, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", ns)
	for _, h := range []*natlab.Host{p.client, p.server} {
		p.ip("-n", h.Netns, "addr", "add", h.Addr().String()+"/24", "dev", "veth0")
		// A UDP GSO batch crosses a veth as one buffer, which the input
		// hook keeps or drops whole: both stacks send GSO batches, and
		// their PTO probes (two back to back) would share one fate.
		// Segmenting before the veth makes the loss per datagram, as on
		// a real link.
		p.ip("-n", h.Netns, "link", "set", "veth0", "gso_max_segs", "1")
		p.ip("-n", h.Netns, "link", "set", "veth0", "up")
		p.ip("-n", h.Netns, "link", "set", "lo", "up")
	}
	return p
}

func (p *netnsPair) ip(args ...string) {
	p.tb.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		p.tb.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// setLoss makes both sides drop percent % of the UDP they receive.
func (p *netnsPair) setLoss(percent int) {
	p.tb.Helper()
	ctx := context.Background()
	for _, h := range []*natlab.Host{p.client, p.server} {
		_, _ = h.Exec(ctx, "nft", "delete", "table", "inet", netnsLossTable)
		if percent == 0 {
			continue
		}
		rules := fmt.Sprintf("table inet %s {\n\tchain input {\n\t\ttype filter hook input priority -10; policy accept;\n\t\tmeta l4proto udp numgen random mod 100 < %d drop\n\t}\n}\n", netnsLossTable, percent)
		cmd := h.Command(ctx, "nft", "-f", "-")
		cmd.Stdin = strings.NewReader(rules)
		if out, err := cmd.CombinedOutput(); err != nil {
			p.tb.Fatalf("nft in %s: %v: %s", h.Netns, err, out)
		}
	}
}

// sockets opens a server socket and a client socket, one per namespace.
func (p *netnsPair) sockets() (server, client *net.UDPConn) {
	p.tb.Helper()
	server, err := p.server.ListenUDP(0)
	if err != nil {
		p.tb.Fatal(err)
	}
	client, err = p.client.ListenUDP(0)
	if err != nil {
		p.tb.Fatal(err)
	}
	return server, client
}

// oursPair implements lossNet.
func (p *netnsPair) oursPair() (server, client Transport) {
	s, c := p.sockets()
	return NewUDPTransport(s), NewUDPTransport(c)
}

// goPair implements lossNet.
func (p *netnsPair) goPair() (server, client net.PacketConn) { return p.sockets() }

// BenchmarkLossNetns moves 4 MiB over real UDP sockets between two
// namespaces dropping 5, 10 and 30 % of the datagrams each side receives,
// with our client and server and with quic-go's, interleaved. It reports
// the transfer's goodput (xfer-MB/s: first write to last byte read);
// ns/op adds the handshake and setup; failed counts transfers that gave
// up. A lab run, not part of make benchcheck (quic-go alone needs ~40 s
// per transfer at 30 %): it runs with IROHSPOKE_LOSSLAB=1, as root with
// ip and nft:
//
//	IROHSPOKE_LOSSLAB=1 go test -run '^$' -bench LossNetns -benchtime 5x ./quic/
func BenchmarkLossNetns(b *testing.B) {
	if os.Getenv("IROHSPOKE_LOSSLAB") != "1" {
		b.Skip("a lab run: set IROHSPOKE_LOSSLAB=1")
	}
	pair := newNetnsPair(b)
	const size = 4 << 20
	for _, loss := range []int{5, 10, 30} {
		for _, st := range lossStacks {
			b.Run(fmt.Sprintf("%d%%/%s", loss, st.name), func(b *testing.B) {
				pair.setLoss(loss)
				b.SetBytes(size)
				var total time.Duration
				done, failed := 0, 0
				for i := 0; i < b.N; i++ {
					d, err := st.transfer(b, lossRun{size: size, loss: float64(loss) / 100}, pair)
					if err != nil {
						// quic-go gives up now and then at 30 %: count it.
						b.Logf("%s at %d %%: %v", st.name, loss, err)
						failed++
						continue
					}
					total += d
					done++
				}
				if done > 0 {
					b.ReportMetric(float64(size)*float64(done)/total.Seconds()/1e6, "xfer-MB/s")
				}
				b.ReportMetric(float64(failed), "failed")
			})
		}
	}
}
