//go:build linux

package natlab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// ErrSetns means the test process could not enter or leave a lab namespace.
var ErrSetns = errors.New("natlab: setns failed")

// Host is one namespace of the lab: a public host, a private host behind a
// NAT, or a NAT router (NAT.Router).
type Host struct {
	Name  string // as in the Spec; routers are "<name>-nat"
	Netns string // the namespace name, for ip netns exec and interop's Netns
	addr  netip.Addr
}

// Addr is the host's address: public hosts and routers on 198.51.100.0/24,
// private hosts on their 10.N.0.0/24.
func (h *Host) Addr() netip.Addr { return h.addr }

// AddrPort is Addr with a port.
func (h *Host) AddrPort(port uint16) netip.AddrPort { return netip.AddrPortFrom(h.addr, port) }

// Command prepares name args... to run inside the host's namespace.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.Netns, name}, args...)...)
	// ip execs the command, which keeps the death signal: nothing started
	// in the lab outlives a crashed test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// Exec runs name args... inside the host's namespace and returns its
// combined output.
func (h *Host) Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	out, err := h.Command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("natlab: %s: %s %s: %w: %s", h.Name, name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// ListenUDP opens a UDP socket on the host's address and port (0: any)
// from the test process. The socket lives in the host's namespace, so its
// traffic crosses the lab exactly like a process running there.
func (h *Host) ListenUDP(port uint16) (*net.UDPConn, error) {
	var conn *net.UDPConn
	err := h.do(func() error {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(h.AddrPort(port)))
		conn = c
		return err
	})
	return conn, err
}

// do runs fn on an OS thread switched into the host's namespace. Sockets
// keep the namespace they were created in, so fn may create them and
// return them to any goroutine.
func (h *Host) do(fn func() error) error {
	target, err := os.Open(filepath.Join("/run/netns", h.Netns))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSetns, err)
	}
	defer target.Close()
	errc := make(chan error, 1)
	go func() {
		// A thread that cannot return to its namespace stays locked, so
		// the runtime discards it when this goroutine ends.
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("%w: %v", ErrSetns, err)
			return
		}
		defer orig.Close()
		if err := setns(target); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		ferr := fn()
		if err := setns(orig); err != nil {
			errc <- errors.Join(ferr, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func setns(f *os.File) error {
	_, _, errno := syscall.Syscall(sysSetns, f.Fd(), syscall.CLONE_NEWNET, 0)
	if errno != 0 {
		return fmt.Errorf("%w: %v", ErrSetns, errno)
	}
	return nil
}
