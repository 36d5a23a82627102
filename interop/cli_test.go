package interop_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop"
)

// buildCLI builds cmd/irohspoke into a temporary directory.
func buildCLI(t *testing.T) string {
	t.Helper()
	dir, err := interop.NodeDir()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "..", "..")
	bin := filepath.Join(t.TempDir(), "irohspoke")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/irohspoke")
	cmd.Dir = root
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestCLIDialRealHubThroughCLIRelay: "irohspoke relay" serves as the home
// relay of a real iroh hub, and "irohspoke dial --preset minimal --hub ID
// --relay URL" reaches that hub through it alone.
func TestCLIDialRealHubThroughCLIRelay(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	bin := buildCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	relayCmd := exec.CommandContext(ctx, bin, "relay", "--listen", "127.0.0.1:0")
	out, err := relayCmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := relayCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relayCmd.Process.Kill(); relayCmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("relay ready line: %v", err)
	}
	var ready struct{ RelayURL string }
	if err := json.Unmarshal([]byte(line), &ready); err != nil || ready.RelayURL == "" {
		t.Fatalf("relay ready line %q: %v", line, err)
	}

	hub := interop.StartHub(t, interop.HubOptions{RelayURL: ready.RelayURL})
	if hub.RelayURL == "" {
		t.Fatalf("hub did not come online at our relay: %s", hub.Stderr.String())
	}
	var stdin strings.Builder
	for i := 0; i < 20; i++ {
		stdin.WriteString(`{"type":"relayed","id":"` + string(rune('a'+i)) + `","payload":{"n":` + string(rune('0'+i%10)) + `}}` + "\n")
	}
	// --preset minimal: the relay above is all the dial may use (the
	// default n0 preset would also look the hub up at n0's DNS).
	dial := exec.CommandContext(ctx, bin, "dial", "--preset", "minimal", "--hub", hub.EndpointID, "--relay", ready.RelayURL, "--linger", "1s")
	dial.Stdin = strings.NewReader(stdin.String())
	var stdout, stderr strings.Builder
	dial.Stdout, dial.Stderr = &stdout, &stderr
	if err := dial.Run(); err != nil {
		t.Fatalf("dial: %v\nstderr: %s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 20 {
		t.Fatalf("%d echoes, want 20:\n%s\nstderr: %s", len(lines), stdout.String(), stderr.String())
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, `{"type":"relayed.echo","id":"`+string(rune('a'+i))+`"`) {
			t.Fatalf("echo %d: %s", i, l)
		}
	}
	if !strings.Contains(stderr.String(), `"path":"relay"`) {
		t.Fatalf("dial did not report the relay path: %s", stderr.String())
	}
}
