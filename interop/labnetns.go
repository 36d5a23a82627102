package interop

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// maxLabNamespaces bounds the walk over a lab's namespaces.
const maxLabNamespaces = 64

// ErrUnsafeNetns means a named namespace is not an isolated lab: it is
// missing, is the host's namespace, or is linked to one.
var ErrUnsafeNetns = errors.New("interop: namespace is not an isolated lab namespace")

// Prepare checks what the real-iroh helpers need (root, ip, node, npm) and
// installs the npm modules while the network is still reachable. Packages
// that build their own namespaces (and pass Netns to the helpers) call it
// from TestMain instead of InNetns.
func Prepare() error { return prepareHost() }

// requireSafeTarget is the hard guard used before any iroh process starts:
// the current namespace must be loopback-only (netns == "") or netns must be
// an isolated lab namespace.
func requireSafeTarget(t testing.TB, netns string) {
	t.Helper()
	if err := safeTarget(netns); err != nil {
		t.Fatalf("interop: refusing to start real iroh: %v", err)
	}
}

func safeTarget(netns string) error {
	if netns == "" {
		return netnsReady()
	}
	return checkLabNetns(netns)
}

// linkInfo is the part of `ip -j -d link` output the check needs.
type linkInfo struct {
	Name     string `json:"ifname"`
	NetnsID  *int   `json:"link_netnsid"`
	LinkInfo *struct {
		Kind string `json:"info_kind"`
	} `json:"linkinfo"`
}

var nsidLine = regexp.MustCompile(`^nsid (\d+)(?: \(iproute2 netns name: (\S+)\))?$`)

// checkLabNetns walks every namespace reachable from name through veth
// pairs. Each must be a named namespace (under /run/netns), none may be the
// host's (pid 1's) namespace, and each may hold only loopback, veth and
// bridge interfaces. A veth whose peer lives in an unnamed namespace, such
// as the host's, fails the check, so nothing started in the lab can reach
// a real network.
func checkLabNetns(name string) error {
	forbidden := hostNamespaces()
	seen := map[string]bool{name: true}
	queue := []string{name}
	for len(queue) > 0 {
		ns := queue[0]
		queue = queue[1:]
		if !validNetnsName(ns) {
			return fmt.Errorf("%w: bad namespace name %q", ErrUnsafeNetns, ns)
		}
		id, err := nsIdentity(filepath.Join("/run/netns", ns))
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrUnsafeNetns, ns, err)
		}
		if forbidden[id] {
			return fmt.Errorf("%w: %s is the host namespace", ErrUnsafeNetns, ns)
		}
		peers, err := labPeers(ns)
		if err != nil {
			return err
		}
		for _, p := range peers {
			if !seen[p] {
				if len(seen) >= maxLabNamespaces {
					return fmt.Errorf("%w: more than %d linked namespaces", ErrUnsafeNetns, maxLabNamespaces)
				}
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	return nil
}

// labPeers lists the namespaces ns's veths lead to, failing on any
// interface kind other than loopback, veth or bridge and on a veth whose
// peer namespace has no name.
func labPeers(ns string) ([]string, error) {
	out, err := exec.Command("ip", "-n", ns, "-j", "-d", "link", "show").Output()
	if err != nil {
		return nil, fmt.Errorf("%w: ip -n %s link: %v", ErrUnsafeNetns, ns, err)
	}
	var links []linkInfo
	if err := json.Unmarshal(out, &links); err != nil {
		return nil, fmt.Errorf("%w: ip -n %s link output: %v", ErrUnsafeNetns, ns, err)
	}
	names, err := nsidNames(ns)
	if err != nil {
		return nil, err
	}
	var peers []string
	for _, l := range links {
		kind := ""
		if l.LinkInfo != nil {
			kind = l.LinkInfo.Kind
		}
		switch {
		case l.Name == "lo":
		case kind == "bridge":
		case kind == "veth":
			if l.NetnsID == nil {
				continue // both ends in ns
			}
			peer, ok := names[*l.NetnsID]
			if !ok {
				return nil, fmt.Errorf("%w: %s/%s leads to an unnamed namespace", ErrUnsafeNetns, ns, l.Name)
			}
			peers = append(peers, peer)
		default:
			return nil, fmt.Errorf("%w: %s has interface %s of kind %q", ErrUnsafeNetns, ns, l.Name, kind)
		}
	}
	return peers, nil
}

// nsidNames maps ns's namespace ids to the names of named namespaces.
func nsidNames(ns string) (map[int]string, error) {
	out, err := exec.Command("ip", "-n", ns, "netns", "list-id").Output()
	if err != nil {
		return nil, fmt.Errorf("%w: ip -n %s netns list-id: %v", ErrUnsafeNetns, ns, err)
	}
	return parseNsidList(string(out)), nil
}

// parseNsidList reads `ip netns list-id` output: "nsid N" lines, with
// "(iproute2 netns name: NAME)" for named namespaces. Unnamed ones are left
// out, so a veth into them has no entry.
func parseNsidList(out string) map[int]string {
	names := map[int]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		m := nsidLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil || m[2] == "" {
			continue
		}
		id, err := strconv.Atoi(m[1])
		if err != nil {
			continue
		}
		names[id] = m[2]
	}
	return names
}

func validNetnsName(ns string) bool {
	return ns != "" && ns != "." && ns != ".." && !strings.ContainsAny(ns, "/\x00") && len(ns) <= 200
}

// hostNamespaces identifies namespaces with a real network: pid 1's (when
// readable; containers may hide it) and our own unless it is loopback-only.
func hostNamespaces() map[[2]uint64]bool {
	ids := map[[2]uint64]bool{}
	if id, err := nsIdentity("/proc/1/ns/net"); err == nil {
		ids[id] = true
	}
	if checkLoopbackOnly() != nil {
		if id, err := nsIdentity("/proc/self/ns/net"); err == nil {
			ids[id] = true
		}
	}
	return ids
}

// nsIdentity returns the device and inode that identify a namespace file.
func nsIdentity(path string) ([2]uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return [2]uint64{}, err
	}
	return [2]uint64{uint64(st.Dev), st.Ino}, nil
}

// nodeCommand is the argv that runs node, inside netns when it is set.
func nodeCommand(netns string, nodeArgs []string) (string, []string) {
	if netns == "" {
		return "node", nodeArgs
	}
	return "ip", append([]string{"netns", "exec", netns, "node"}, nodeArgs...)
}
