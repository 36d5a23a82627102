package netmon

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"github.com/alkdev/irohspoke/nat/internal/netnstest"
)

// requireSameAsPortable reads the state over netlink between two reads
// through net.Interfaces (the old reader) and requires the same State
// once those two agree, i.e. nothing changed meanwhile.
func requireSameAsPortable(t *testing.T) State {
	t.Helper()
	for range 5 {
		before, err := readStatePortable()
		if err != nil {
			t.Fatal(err)
		}
		got, err := readStateNetlink()
		if err != nil {
			t.Fatal(err)
		}
		after, err := readStatePortable()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(before, after) {
			continue // the network changed under the reads
		}
		if !reflect.DeepEqual(got, before) {
			t.Fatalf("netlink state\n%+v\nnet.Interfaces state\n%+v", got, before)
		}
		return got
	}
	t.Fatal("the network kept changing")
	return State{}
}

// TestReadStateMatchesPortable compares the readers on this host's
// network (read only).
func TestReadStateMatchesPortable(t *testing.T) {
	s := requireSameAsPortable(t)
	if len(s.Interfaces) == 0 {
		t.Fatal("no interfaces")
	}
}

// labSetup builds a namespace with several interfaces, up and down,
// secondary and point-to-point addresses of both families and default
// routes of both families (one in another table, which does not count).
var labSetup = func() [][]string {
	cmds := [][]string{
		{"link", "add", "a0", "type", "veth", "peer", "name", "a1"},
		{"link", "add", "b0", "type", "veth", "peer", "name", "b1"},
		{"link", "add", "c0", "type", "veth", "peer", "name", "c1"},
		{"link", "add", "br0", "type", "bridge"},
	}
	for _, l := range []string{"a0", "a1", "b0", "b1", "br0"} {
		cmds = append(cmds, []string{"link", "set", l, "up"})
	}
	for i := range 6 { // enough links for the dumps to take several reads
		x, y := fmt.Sprintf("x%d", i), fmt.Sprintf("y%d", i)
		cmds = append(cmds, []string{"link", "add", x, "type", "veth", "peer", "name", y},
			[]string{"link", "set", x, "up"}, []string{"addr", "add", fmt.Sprintf("10.10.%d.1/24", i), "dev", x})
	}
	return append(cmds,
		[]string{"addr", "add", "10.1.0.2/24", "dev", "a0"},
		[]string{"addr", "add", "10.1.0.3/24", "dev", "a0"},
		[]string{"addr", "add", "10.1.5.2/16", "dev", "a0"},
		[]string{"addr", "add", "fd01::2/64", "dev", "a0", "nodad"},
		[]string{"addr", "add", "fd01::3/64", "dev", "a0", "nodad"},
		[]string{"addr", "add", "10.1.0.1/24", "dev", "a1"},
		[]string{"addr", "add", "fd01::1/64", "dev", "a1", "nodad"},
		[]string{"addr", "add", "10.2.0.1", "peer", "10.2.0.2", "dev", "b0"},
		[]string{"addr", "add", "fd02::1", "peer", "fd02::2", "dev", "b0", "nodad"},
		[]string{"addr", "add", "10.3.0.1/24", "dev", "c0"},
		[]string{"addr", "add", "192.168.77.1/24", "dev", "br0"},
		[]string{"addr", "add", "fd03::1/48", "dev", "br0", "nodad"},
		[]string{"route", "add", "default", "via", "10.1.0.254", "dev", "a0", "metric", "100"},
		[]string{"route", "add", "default", "via", "10.2.0.2", "dev", "b0", "metric", "50"},
		[]string{"-6", "route", "add", "default", "via", "fd01::fe", "dev", "a0", "metric", "10"},
		[]string{"route", "add", "default", "via", "10.1.0.1", "dev", "a0", "table", "100"},
	)
}()

// TestReadStateMatchesPortableInNamespace compares the readers in a
// namespace built by labSetup. With NETMON_CAPTURE=dir it also saves the
// namespace's raw dumps there (the testdata the parser tests use).
func TestReadStateMatchesPortableInNamespace(t *testing.T) {
	if !netnstest.Enter(t) {
		return
	}
	for _, args := range labSetup {
		netnstest.IP(t, args...)
	}
	s := requireSameAsPortable(t)
	if len(s.Interfaces) != 20 || len(s.DefaultRoutes) != 3 || !hasAddr(s, "b0", "10.2.0.1/32") {
		t.Fatalf("the namespace is not as built: %+v", s)
	}
	if dir := os.Getenv("NETMON_CAPTURE"); dir != "" {
		for name, typ := range map[string]int{"link.dump": syscall.RTM_GETLINK, "addr.dump": syscall.RTM_GETADDR, "route.dump": syscall.RTM_GETROUTE} {
			b, err := syscall.NetlinkRIB(typ, syscall.AF_UNSPEC)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// BenchmarkReadState: the netlink reader against the old one through
// net.Interfaces, on this host's network.
func BenchmarkReadState(b *testing.B) {
	for _, r := range []struct {
		name string
		read func() (State, error)
	}{{"old", readStatePortable}, {"new", readStateNetlink}} {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
