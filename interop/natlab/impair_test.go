//go:build linux

package natlab_test

import (
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
)

// TestImpairedWAN: netem delay on a router's WAN shows up in the round
// trip. The lab skips itself where the kernel has no netem.
func TestImpairedWAN(t *testing.T) {
	const delay = 40 * time.Millisecond
	lab := natlab.New(t, natlab.Spec{
		NATs:   []natlab.NATSpec{{Name: "slow", Kind: natlab.EndpointIndependent, WAN: natlab.Impairment{Delay: delay}}},
		Public: []string{"echo"},
	})
	echo := startEcho(t, lab.MustHost(t, "echo"), echoPort)
	c, err := lab.NAT("slow").Host.ListenUDP(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	observed(t, c, echo)
	if rtt := time.Since(start); rtt < delay {
		t.Errorf("round trip %v through a WAN delayed by %v", rtt, delay)
	}
}
