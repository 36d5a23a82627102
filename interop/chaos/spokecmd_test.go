package chaos

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/hub"
)

// startLoopbackHub runs a Go hub on 127.0.0.1 for the test.
func startLoopbackHub(t *testing.T) (id, addr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ep, err := endpoint.Bind(ctx, endpoint.Options{BindAddr: "127.0.0.1:0", ALPNs: []string{hub.ALPN}})
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Options{})
	served := make(chan struct{})
	go func() {
		defer close(served)
		h.Serve(ctx, ep)
	}()
	t.Cleanup(func() {
		cancel()
		h.Close()
		<-served
		ep.Close()
	})
	return ep.ID().String(), ep.LocalAddr().String()
}

func TestRunSpokeThroughAGoHub(t *testing.T) {
	id, addr := startLoopbackHub(t)
	stdin := strings.NewReader(`{"type":"chaos","id":"0.1","payload":1}` + "\nnot json\n" + `{"type":"chaos","id":"0.2","payload":2}` + "\n")
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := RunSpoke(ctx, []string{"--hub", id, "--addr", addr, "--bind", "127.0.0.1:0", "--linger", "200ms"}, stdin, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	want := `{"type":"chaos.echo","id":"0.1","payload":1}` + "\n" + `{"type":"chaos.echo","id":"0.2","payload":2}` + "\n"
	if stdout.String() != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", stdout.String(), want)
	}
	for _, line := range []string{`"event":"connected"`, `"event":"bad_input"`, `"line":2`, `"delivered":2`, `"failed":0`} {
		if !strings.Contains(stderr.String(), line) {
			t.Errorf("stderr lacks %s:\n%s", line, stderr.String())
		}
	}
}

func TestRunSpokeRefusesBadFlags(t *testing.T) {
	const id = "ae58ff8833241ac82d6ff7611046ed67b5072d142c588d0063e942d9a75502b6"
	for _, args := range [][]string{
		{},
		{"--hub", "nope", "--addr", "127.0.0.1:1"},
		{"--hub", id},
		{"--hub", id, "--addr", "127.0.0.1"},
		{"--hub", id, "--relay", "ftp://x"},
		{"--hub", id, "--addr", "127.0.0.1:1", "--idle-timeout", "0s"},
		{"--hub", id, "--addr", "127.0.0.1:1", "extra"},
		{"--bogus"},
	} {
		var stderr bytes.Buffer
		code := RunSpoke(context.Background(), args, strings.NewReader(""), &bytes.Buffer{}, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), `"event":"usage"`) {
			t.Errorf("%q: exit %d, stderr %s; want %d and a usage line", args, code, stderr.String(), exitUsage)
		}
	}
}

func TestRunSpokeWithoutHubExits3(t *testing.T) {
	_, addr := startLoopbackHub(t)
	const otherID = "ae58ff8833241ac82d6ff7611046ed67b5072d142c588d0063e942d9a75502b6"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	code := RunSpoke(ctx, []string{"--hub", otherID, "--addr", addr, "--bind", "127.0.0.1:0"}, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	if code != exitConnect || !strings.Contains(stderr.String(), `"event":"dial_failed"`) {
		t.Fatalf("dialing the wrong EndpointId: exit %d, stderr %s; want %d", code, stderr.String(), exitConnect)
	}
}

func FuzzParseSpokeFlags(f *testing.F) {
	f.Add("--hub\x00ae58ff8833241ac82d6ff7611046ed67b5072d142c588d0063e942d9a75502b6\x00--addr\x00127.0.0.1:1")
	f.Add("--hub\x00x\x00--relay\x00http://198.51.100.10:3340/")
	f.Add("--idle-timeout\x00-1s\x00--linger\x001h")
	f.Add("")
	f.Fuzz(func(t *testing.T, joined string) {
		f, err := parseSpokeFlags(strings.Split(joined, "\x00"))
		if err == nil && (f.hub.IsEmpty() || f.idle <= 0 || f.keepAlive <= 0 || f.linger < 0) {
			t.Fatalf("accepted %q as %+v", joined, f)
		}
	})
}
