package interop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNetnsOptionsValidate(t *testing.T) {
	for _, ok := range []string{"", "127.0.0.1", "127.0.0.53", "::1"} {
		if err := (NetnsOptions{Resolver: ok}).validate(); err != nil {
			t.Errorf("Resolver %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"8.8.8.8", "10.0.0.1", "localhost", "127.0.0.1:53", "fe80::1%lo", "::"} {
		if err := (NetnsOptions{Resolver: bad}).validate(); !errors.Is(err, ErrBadResolver) {
			t.Errorf("Resolver %q: err %v, want ErrBadResolver", bad, err)
		}
	}
}

func TestNameservers(t *testing.T) {
	got, err := nameservers(strings.NewReader("# c\nsearch example\nnameserver 127.0.0.1\n  nameserver\t::1 # x\nnameserver\noptions ndots:1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "127.0.0.1,::1" {
		t.Fatalf("nameservers %q", got)
	}
	o := NetnsOptions{Resolver: "127.0.0.1"}
	got, err = nameservers(strings.NewReader(o.resolvConf()))
	if err != nil || len(got) != 1 || got[0] != o.Resolver {
		t.Fatalf("written resolv.conf lists %q (%v)", got, err)
	}
}

func FuzzNameservers(f *testing.F) {
	f.Add("nameserver 127.0.0.1\n")
	f.Add("# comment\nnameserver ::1\nnameserver 127.0.0.53 extra\n")
	f.Add("nameserver")
	f.Add("\x00nameserver \xff\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := nameservers(strings.NewReader(s))
		if err != nil {
			return // an over-long line
		}
		for _, g := range got {
			if g == "" || strings.ContainsAny(g, " \t\n") {
				t.Fatalf("nameserver %q from %q", g, s)
			}
		}
	})
}

// TestWriteAndRemoveNetnsEtc: the resolver file lands where ip netns exec
// looks for it and is removed with its directory; other names are left
// alone.
func TestWriteAndRemoveNetnsEtc(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to write /etc/netns")
	}
	// Our own pid: a concurrent harness must not take it for a leftover.
	ns := fmt.Sprintf("%s%d-%s", netnsPrefix, os.Getpid(), "0123abcd")
	dir := filepath.Join(etcNetnsDir, ns)
	t.Cleanup(func() { os.RemoveAll(dir) })
	o := NetnsOptions{Resolver: "127.0.0.1"}
	if err := o.writeEtc(ns); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "resolv.conf"))
	if err != nil || string(b) != o.resolvConf() {
		t.Fatalf("resolv.conf %q (%v)", b, err)
	}
	if staleNetnsName(ns) {
		t.Fatal("a live process's namespace files counted as stale")
	}
	removeNetnsEtc(ns)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s still there: %v", dir, err)
	}
	if err := (NetnsOptions{}).writeEtc(ns); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("no resolver, yet a directory was written")
	}
}

func TestStaleNetnsName(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dead := exec.CommandContext(ctx, "true")
	if err := dead.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	deadPid := dead.Process.Pid
	for name, want := range map[string]bool{
		fmt.Sprintf("irohspoke-%d-0123abcd", deadPid):     true,
		fmt.Sprintf("irohspoke-%d-0123abcd", os.Getpid()): false,
		fmt.Sprintf("irohspoke-%d-0123", deadPid):         false,
		fmt.Sprintf("other-%d-0123abcd", deadPid):         false,
		"irohspoke-0-0123abcd":                            false,
		"irohspoke--0123abcd":                             false,
		"irohspoke-x-0123abcd":                            false,
	} {
		if got := staleNetnsName(name); got != want {
			t.Errorf("staleNetnsName(%q) = %v, want %v", name, got, want)
		}
	}
}
