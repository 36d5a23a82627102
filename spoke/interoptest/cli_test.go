package interoptest

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alkdev/irohspoke/interop"
)

// TestCLIDialIrohHub runs the irohspoke binary's dial command against the
// real hub, echoing stdin lines.
func TestCLIDialIrohHub(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "irohspoke")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/alkdev/irohspoke/cmd/irohspoke").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	h := interop.StartHub(t, interop.HubOptions{})
	ap, _ := h.AddrV4()
	cmd := exec.Command(bin, "dial", "--preset", "minimal", "--hub", h.EndpointID, "--addr", ap.String(), "--linger", "1s")
	cmd.Stdin = strings.NewReader("{\"type\":\"a\",\"id\":\"1\",\"payload\":[1, 2]}\n{oops\n{\"type\":\"b\",\"id\":\"2\"}\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dial: %v\n%s", err, stderr.String())
	}
	want := `{"type":"a.echo","id":"1","payload":[1,2]}` + "\n" + `{"type":"b.echo","id":"2","payload":null}` + "\n"
	if stdout.String() != want {
		t.Fatalf("stdout %q, want %q\nstderr %s", stdout.String(), want, stderr.String())
	}
	if !strings.Contains(stderr.String(), `"event":"bad_input"`) || !strings.Contains(stderr.String(), `"path":"direct"`) {
		t.Fatalf("stderr %s", stderr.String())
	}
}
