package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestLookupServerHTTPLimits: lookup-server serves the pkarr API with the
// lookup package's limits, so a 64 KiB request head (net/http alone
// accepts 1 MB) is refused while a plain request is answered.
func TestLookupServerHTTPLimits(t *testing.T) {
	ls := startLookupServer(t, "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--origin", "limits.test")
	healthz := strings.TrimSuffix(ls.Pkarr, "/pkarr") + "/healthz"
	for _, c := range []struct {
		pad  int
		want int
	}{{0, http.StatusOK}, {64 << 10, http.StatusRequestHeaderFieldsTooLarge}} {
		req, err := http.NewRequest("GET", healthz, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Pad", strings.Repeat("p", c.pad))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%d-byte header: %v", c.pad, err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%d-byte header: %s, want %d", c.pad, resp.Status, c.want)
		}
	}
}
