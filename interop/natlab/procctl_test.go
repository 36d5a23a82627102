//go:build linux

package natlab_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
)

// TestFlushConntrackRemapsRandomPort: after a flush the random-port NAT
// has forgotten the socket's mapping and gives its next packet a new one.
func TestFlushConntrackRemapsRandomPort(t *testing.T) {
	lab := natlab.New(t, natlab.Spec{
		NATs:   []natlab.NATSpec{{Name: "b", Kind: natlab.RandomPort}},
		Public: []string{"echo"},
	})
	echo := startEcho(t, lab.MustHost(t, "echo"), echoPort)
	c, err := lab.NAT("b").Host.ListenUDP(privatePort)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	router := lab.NAT("b").Router
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	before := observed(t, c, echo)
	if n, err := router.ConntrackCount(ctx); err != nil || n == 0 {
		t.Fatalf("conntrack entries before the flush: %d, %v", n, err)
	}
	if err := router.FlushConntrack(); err != nil {
		t.Fatal(err)
	}
	if n, err := router.ConntrackCount(ctx); err != nil || n != 0 {
		t.Fatalf("conntrack entries after the flush: %d, %v", n, err)
	}
	if after := observed(t, c, echo); after == before {
		t.Fatalf("mapping %v survived the flush", after)
	}
}

// TestProcSignalKillWait: SIGSTOP silences a process until SIGCONT, Kill
// ends it, and Wait returns a process's own exit status.
func TestProcSignalKillWait(t *testing.T) {
	lab := natlab.New(t, natlab.Spec{Public: []string{"p"}})
	h := lab.MustHost(t, "p")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	ticker := h.Start(t, "sh", "-c", "while :; do echo tick; sleep 0.02; done")
	if _, err := ticker.Line(ctx); err != nil {
		t.Fatal(err)
	}
	ticker.Signal(syscall.SIGSTOP)
	time.Sleep(100 * time.Millisecond) // lines already printed drain
	for {
		quiet, stop := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err := ticker.Line(quiet)
		stop()
		if err != nil {
			break // 300 ms without a line: stopped
		}
	}
	ticker.Signal(syscall.SIGCONT)
	if _, err := ticker.Line(ctx); err != nil {
		t.Fatalf("no line after SIGCONT: %v", err)
	}
	ticker.Kill()
	if code, err := ticker.Wait(ctx); err != nil || code != -1 {
		t.Fatalf("killed process: status %d, %v; want -1 (signalled)", code, err)
	}

	exits := h.Start(t, "sh", "-c", "exit 3")
	if code, err := exits.Wait(ctx); err != nil || code != 3 {
		t.Fatalf("status %d, %v; want 3", code, err)
	}
}

// TestProcEachLine: every line, in order, with times that do not go back.
func TestProcEachLine(t *testing.T) {
	lab := natlab.New(t, natlab.Spec{Public: []string{"p"}})
	p := lab.MustHost(t, "p").Start(t, "sh", "-c", "echo one; sleep 0.05; echo two")
	var lines []string
	var last time.Time
	p.EachLine(func(line string, at time.Time) {
		if at.Before(last) {
			t.Errorf("line %q read at %v, before the previous one", line, at)
		}
		lines, last = append(lines, line), at
	})
	if strings.Join(lines, ",") != "one,two" {
		t.Fatalf("lines %q, want one, two", lines)
	}
}
