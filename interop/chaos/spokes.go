//go:build linux

package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/interop/soak"
	"github.com/alkdev/irohspoke/wire"
)

// SpokeKind is the program a chaos spoke runs.
type SpokeKind string

const (
	// DialSpoke is "irohspoke dial" with its defaults (30 s QUIC idle
	// timeout, 5 s keep-alives).
	DialSpoke SpokeKind = "dial"
	// LibSpoke is RunSpoke, our spoke library with a short idle timeout,
	// so that a dead connection is noticed within seconds.
	LibSpoke SpokeKind = "lib"
)

// Spoke is one spoke process in a lab host, fed numbered events.
type Spoke struct {
	Index int
	Kind  SpokeKind
	Proc  *natlab.Proc

	journal *Journal
	stop    chan struct{}
	sending sync.WaitGroup
	read    chan struct{} // closed when stdout has ended
}

// StartSpoke starts a spoke of kind on h, dialing the hub with hubArgs
// (--hub ID, --addr, --relay), and books what it prints in j as spoke
// index. LibSpoke takes libIdle as its QUIC idle timeout.
func StartSpoke(t testing.TB, j *Journal, index int, kind SpokeKind, h *natlab.Host, libIdle time.Duration, hubArgs ...string) *Spoke {
	t.Helper()
	s := &Spoke{Index: index, Kind: kind, journal: j, stop: make(chan struct{}), read: make(chan struct{})}
	args := append([]string{"--linger", "1s"}, hubArgs...)
	switch kind {
	case DialSpoke:
		s.Proc = h.Start(t, natlab.Irohspoke(t), append([]string{"dial"}, args...)...)
	case LibSpoke:
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		lib := []string{SpokeCommand, "--idle-timeout", libIdle.String(), "--keepalive", (libIdle / 5).String()}
		s.Proc = h.Start(t, self, append(lib, args...)...)
	default:
		t.Fatalf("chaos: unknown spoke kind %q", kind)
	}
	go s.readFrames()
	return s
}

// readFrames books every stdout line, stamped when it was read.
func (s *Spoke) readFrames() {
	defer close(s.read)
	s.Proc.EachLine(func(line string, at time.Time) {
		if e, err := wire.ParseEnvelope([]byte(line)); err == nil {
			s.journal.Received(s.Index, e, at)
		}
	})
}

// Send starts handing the spoke a new event every interval.
func (s *Spoke) Send(interval time.Duration) {
	s.sending.Add(1)
	go func() {
		defer s.sending.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			seq := s.journal.Send(s.Index, time.Now())
			line := fmt.Sprintf(`{"type":%q,"id":%q,"payload":%d}`+"\n", EventType, soak.EventID(s.Index, seq), seq)
			if _, err := s.Proc.Stdin.Write([]byte(line)); err != nil {
				return // the process is gone; its exit status tells
			}
		}
	}()
}

// StopSending stops the events and waits for the last one to be handed
// over. A spoke that stopped reading (frozen or hung, its stdin pipe full)
// gets its stdin closed after stopWait, so the writer cannot hang.
func (s *Spoke) StopSending() {
	close(s.stop)
	done := make(chan struct{})
	go func() {
		s.sending.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(stopWait):
		s.Proc.Stdin.Close()
		<-done
	}
}

const stopWait = 5 * time.Second

// Finish closes the spoke's stdin and waits until it exits, which it does
// once every event is acknowledged (or given up) and it went quiet.
func (s *Spoke) Finish(ctx context.Context) (int, error) {
	s.Proc.Stdin.Close()
	code, err := s.Proc.Wait(ctx)
	if err == nil {
		<-s.read
	}
	return code, err
}

// Statuses counts the spoke's status lines by event ("disconnected",
// "reconnected", "failed", "failed_event"…) and sums their "resent" and
// "failed" fields under "resent_events" and "failed_events".
func (s *Spoke) Statuses() map[string]int {
	n := map[string]int{}
	for _, l := range strings.Split(s.Proc.Stderr(), "\n") {
		var st struct {
			Event  string `json:"event"`
			Resent int    `json:"resent"`
			Failed int    `json:"failed"`
		}
		if json.Unmarshal([]byte(l), &st) != nil || st.Event == "" {
			continue
		}
		n[st.Event]++
		if st.Event == "reconnected" {
			n["resent_events"] += st.Resent
		}
		if st.Event == "failed" {
			n["failed_events"] += st.Failed
		}
	}
	return n
}
