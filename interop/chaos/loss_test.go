//go:build linux

package chaos

import (
	"errors"
	"testing"
)

func TestParseDropCounter(t *testing.T) {
	listing := `{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"table": {"family": "inet", "name": "chaos_loss"}},
		{"rule": {"expr": [{"match": {}}, {"counter": {"packets": 42, "bytes": 5000}}, {"drop": null}]}},
		{"rule": {"expr": [{"counter": {"packets": 8, "bytes": 1}}]}}]}`
	if n, err := parseDropCounter([]byte(listing)); err != nil || n != 50 {
		t.Fatalf("parseDropCounter = %d, %v; want 50", n, err)
	}
	for _, bad := range []string{"", "{", `{"nftables": []}`, `{"nftables": [{"rule": {"expr": [{"drop": null}]}}]}`, `[1]`} {
		if _, err := parseDropCounter([]byte(bad)); !errors.Is(err, ErrNoCounter) {
			t.Errorf("parseDropCounter(%q) error %v, want ErrNoCounter", bad, err)
		}
	}
}

func FuzzParseDropCounter(f *testing.F) {
	f.Add([]byte(`{"nftables": [{"rule": {"expr": [{"counter": {"packets": 3, "bytes": 9}}]}}]}`))
	f.Add([]byte(`{"nftables": [{"rule": null}, {"rule": {"expr": [{"counter": {"packets": -1}}]}}]}`))
	f.Add([]byte(`{"nftables": [{"rule": {"expr": [{"counter": {"packets": 9223372036854775807}}, {"counter": {"packets": 1}}]}}]}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := parseDropCounter(b); err != nil && !errors.Is(err, ErrNoCounter) {
			t.Fatalf("error %v is not ErrNoCounter", err)
		}
	})
}
