package interop_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop"
)

// TestSpokePresetUsage: an id alone is a target only with the n0 preset,
// and unknown presets are refused before iroh starts.
func TestSpokePresetUsage(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	id := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		opts interop.SpokeOptions
		want string
	}{
		{interop.SpokeOptions{ID: id}, "--preset n0"},
		{interop.SpokeOptions{ID: id, Preset: "minimal"}, "--preset n0"},
		{interop.SpokeOptions{ID: id, Preset: "bogus"}, "--preset must be one of"},
	} {
		res, err := interop.RunSpoke(ctx, tc.opts)
		if !errors.Is(err, interop.ErrSpokeFailed) || res.ExitCode != 2 || res.Error == nil ||
			!strings.HasPrefix(*res.Error, "usage:") || !strings.Contains(*res.Error, tc.want) {
			t.Errorf("preset %q: exit %d, error %v, err %v; want usage error mentioning %q",
				tc.opts.Preset, res.ExitCode, res.Error, err, tc.want)
		}
	}
}
