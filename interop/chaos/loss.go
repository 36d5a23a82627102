//go:build linux

package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/alkdev/irohspoke/interop/natlab"
)

// lossTable drops LossPercent % of the UDP datagrams a host receives. It
// sits on the input hook: dropped on output, the sender would see EPERM
// instead of a lost datagram. The kernel has no netem to do this.
const lossTable = "chaos_loss"

// LossPercent is the share of UDP datagrams dropped.
const LossPercent = 10

// ErrNoCounter means nft printed no counter for the loss rule.
var ErrNoCounter = errors.New("chaos: no drop counter in nft output")

// AddLoss starts dropping UDP on h.
func AddLoss(ctx context.Context, h *natlab.Host) error {
	rules := fmt.Sprintf(`table inet %s {
	chain input {
		type filter hook input priority -10; policy accept;
		meta l4proto udp numgen random mod 100 < %d counter drop
	}
}
`, lossTable, LossPercent)
	cmd := h.Command(ctx, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("chaos: nft on %s: %v: %s", h.Name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// RemoveLoss stops dropping UDP on h and returns how many datagrams were
// dropped.
func RemoveLoss(ctx context.Context, h *natlab.Host) (int, error) {
	out, err := h.Exec(ctx, "nft", "-j", "list", "table", "inet", lossTable)
	if err != nil {
		return 0, err
	}
	dropped, err := parseDropCounter(out)
	if err != nil {
		return 0, err
	}
	_, err = h.Exec(ctx, "nft", "delete", "table", "inet", lossTable)
	return dropped, err
}

// parseDropCounter sums the packet counters of the rules in nft's JSON
// listing of a table.
func parseDropCounter(listing []byte) (int, error) {
	var doc struct {
		Nftables []struct {
			Rule *struct {
				Expr []struct {
					Counter *struct {
						Packets int `json:"packets"`
					} `json:"counter"`
				} `json:"expr"`
			} `json:"rule"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(listing, &doc); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoCounter, err)
	}
	total, found := 0, false
	for _, item := range doc.Nftables {
		if item.Rule == nil {
			continue
		}
		for _, e := range item.Rule.Expr {
			if e.Counter != nil && e.Counter.Packets >= 0 {
				total += e.Counter.Packets
				found = true
			}
		}
	}
	if !found {
		return 0, ErrNoCounter
	}
	return total, nil
}
