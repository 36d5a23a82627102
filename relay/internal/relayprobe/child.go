package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/alkdev/irohspoke/relay"
)

// serve runs a relay with default settings (plus rate) on loopback,
// prints its address and stops when stdin closes.
func serve(rate int64) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s := relay.NewServer(relay.ServerConfig{Logger: slog.New(slog.DiscardHandler), RateLimit: rate})
	go s.Serve(l)
	fmt.Println(l.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return s.Close()
}

// relayChild is a relay server in a child process.
type relayChild struct {
	cmd   *exec.Cmd
	stdin io.Closer
	Addr  string
}

func startRelay(args ...string) (*relayChild, error) {
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("relay child: %w", err)
	}
	return &relayChild{cmd: cmd, stdin: stdin, Addr: strings.TrimSpace(line)}, nil
}

func (r *relayChild) stop() {
	r.stdin.Close()
	_ = r.cmd.Wait()
}

// rssMB and fds read the child's /proc entries.
func (r *relayChild) rssMB() float64 { return procRSSMB(r.cmd.Process.Pid, "VmRSS") }

func (r *relayChild) fds() int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", r.cmd.Process.Pid))
	return len(ents)
}

// procRSSMB reads a Vm* line (kB) of /proc/PID/status in MB.
func procRSSMB(pid int, field string) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}
