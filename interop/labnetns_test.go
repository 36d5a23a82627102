package interop

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func ipOrFatal(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %v: %v: %s", args, err, out)
	}
}

// tempNetns creates a named namespace that is deleted when the test ends.
func tempNetns(t *testing.T, role string) string {
	t.Helper()
	ns := fmt.Sprintf("irohspoke-labcheck-%d-%s", os.Getpid(), role)
	ipOrFatal(t, "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	return ns
}

func TestCheckLabNetns(t *testing.T) {
	RequireNetns(t)
	a, b := tempNetns(t, "a"), tempNetns(t, "b")
	ipOrFatal(t, "-n", a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b)
	ipOrFatal(t, "-n", b, "link", "add", "br0", "type", "bridge")
	ipOrFatal(t, "-n", b, "link", "add", "x1", "type", "veth", "peer", "name", "x2")
	if err := checkLabNetns(a); err != nil {
		t.Fatalf("two linked lab namespaces: %v", err)
	}

	// c stays alive through an open handle after losing its name, like a
	// namespace nobody created for the lab: a veth into it is unsafe.
	c := tempNetns(t, "c")
	f, err := os.Open("/run/netns/" + c)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ipOrFatal(t, "-n", b, "link", "add", "vc", "type", "veth", "peer", "name", "vd", "netns", c)
	ipOrFatal(t, "netns", "del", c)
	if err := checkLabNetns(a); !errors.Is(err, ErrUnsafeNetns) {
		t.Fatalf("lab linked to an unnamed namespace: got %v, want ErrUnsafeNetns", err)
	}
	if err := checkLabNetns("irohspoke-labcheck-missing"); !errors.Is(err, ErrUnsafeNetns) {
		t.Fatalf("missing namespace: got %v", err)
	}
	if err := checkLabNetns("../x"); !errors.Is(err, ErrUnsafeNetns) {
		t.Fatalf("bad name: got %v", err)
	}
}

func TestSafeTargetRefusesUnsafeNetns(t *testing.T) {
	RequireNetns(t)
	_, err := RunSpoke(t.Context(), SpokeOptions{Netns: "irohspoke-labcheck-missing", ID: "x"})
	if !errors.Is(err, ErrUnsafeNetns) {
		t.Fatalf("RunSpoke in a missing namespace: got %v, want ErrUnsafeNetns", err)
	}
}

func TestParseNsidList(t *testing.T) {
	got := parseNsidList("nsid 0 (iproute2 netns name: lab-pub)\nnsid 1 \nnsid 2 (iproute2 netns name: x)\ngarbage\n")
	if len(got) != 2 || got[0] != "lab-pub" || got[2] != "x" {
		t.Fatalf("parseNsidList: %v", got)
	}
	if _, ok := got[1]; ok {
		t.Fatal("an unnamed namespace got a name")
	}
}

func FuzzParseNsidList(f *testing.F) {
	f.Add("nsid 0 (iproute2 netns name: lab-pub)\nnsid 1\n")
	f.Add("nsid 99999999999999999999 (iproute2 netns name: a)")
	f.Add("")
	f.Fuzz(func(t *testing.T, out string) {
		for id, name := range parseNsidList(out) {
			if id < 0 || name == "" || strings.ContainsAny(name, " \n") {
				t.Fatalf("bad entry %d=%q from %q", id, name, out)
			}
		}
	})
}
