//go:build linux

package inetlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
)

// statusPoll is how often a dial's stderr is read for new status lines;
// it bounds the error of the measured times.
const statusPoll = 2 * time.Millisecond

// Status is one JSON status line of "irohspoke dial" and when it
// appeared, counted from the process start.
type Status struct {
	Event string  `json:"event"`
	Path  string  `json:"path"`
	Addr  string  `json:"addr"`
	Error string  `json:"error"`
	RTTMs float64 `json:"rttMs"`
	Raw   string  `json:"-"`
	At    time.Duration
}

// Dial is a running "irohspoke dial"; its status lines are timestamped
// as they appear.
type Dial struct {
	*natlab.Proc
	Started time.Time

	mu       sync.Mutex
	statuses []Status
	seen     int // stderr bytes already split into lines
	wake     chan struct{}
	done     chan struct{}
}

// StartDial runs "irohspoke dial args..." on h; the test writes envelopes
// with Send and ends it with Finish.
func (l *Lab) StartDial(t testing.TB, h *natlab.Host, env []string, args ...string) *Dial {
	t.Helper()
	d := &Dial{Started: time.Now(), wake: make(chan struct{}), done: make(chan struct{})}
	d.Proc = l.Start(t, h, env, append([]string{"dial"}, args...)...)
	go d.watch()
	t.Cleanup(func() { close(d.done) })
	return d
}

// watch turns new complete stderr lines into statuses.
func (d *Dial) watch() {
	tick := time.NewTicker(statusPoll)
	defer tick.Stop()
	for {
		select {
		case <-d.done:
			return
		case <-tick.C:
		}
		all := d.Stderr()
		now := time.Since(d.Started)
		d.mu.Lock()
		rest := all[d.seen:]
		end := strings.LastIndexByte(rest, '\n')
		if end < 0 {
			d.mu.Unlock()
			continue
		}
		d.seen += end + 1
		for _, line := range strings.Split(rest[:end], "\n") {
			var st Status
			if json.Unmarshal([]byte(line), &st) != nil || st.Event == "" {
				continue
			}
			st.Raw, st.At = line, now
			d.statuses = append(d.statuses, st)
		}
		close(d.wake)
		d.wake = make(chan struct{})
		d.mu.Unlock()
	}
}

// Statuses returns the status lines seen so far.
func (d *Dial) Statuses() []Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Status(nil), d.statuses...)
}

// WaitStatus waits for the first status line for which match is true.
func (d *Dial) WaitStatus(ctx context.Context, match func(Status) bool) (Status, error) {
	for {
		d.mu.Lock()
		for _, st := range d.statuses {
			if match(st) {
				d.mu.Unlock()
				return st, nil
			}
		}
		wake := d.wake
		d.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return Status{}, fmt.Errorf("inetlab: waiting for a dial status: %w\nstderr:\n%s", ctx.Err(), d.Stderr())
		}
	}
}

// WaitEvent waits for the first status line of event (and path, if not
// empty).
func (d *Dial) WaitEvent(ctx context.Context, event, path string) (Status, error) {
	return d.WaitStatus(ctx, func(st Status) bool {
		return st.Event == event && (path == "" || st.Path == path)
	})
}

// Send writes envelopes with these ids to the dial's stdin.
func (d *Dial) Send(ids ...string) error {
	for _, id := range ids {
		if _, err := io.WriteString(d.Stdin, Envelope(id)); err != nil {
			return err
		}
	}
	return nil
}

// ReadEchoes reads n echo lines from stdout and checks they echo ids in
// order.
func (d *Dial) ReadEchoes(ctx context.Context, ids ...string) error {
	for _, id := range ids {
		var e struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		if err := d.JSONLine(ctx, &e); err != nil {
			return err
		}
		if e.Type != "lab.echo" || e.ID != id {
			return fmt.Errorf("inetlab: echo %+v, want lab.echo of %q", e, id)
		}
	}
	return nil
}

// Finish closes stdin and waits for the dial to exit; an exit status
// other than 0 is an error.
func (d *Dial) Finish(ctx context.Context) error {
	d.Stdin.Close()
	for {
		if _, err := d.Line(ctx); err != nil {
			if errors.Is(err, natlab.ErrExited) {
				return d.Stop()
			}
			return err
		}
	}
}

// DialResult is a finished dial.
type DialResult struct {
	Err      error    // nil for exit status 0
	Stdout   []string // received frames, one JSON line each
	Statuses []Status
	Stderr   string
	Took     time.Duration
}

// RunDial runs "irohspoke dial args..." to its end with the envelopes ids
// on stdin.
func (l *Lab) RunDial(ctx context.Context, t testing.TB, h *natlab.Host, env []string, ids []string, args ...string) DialResult {
	t.Helper()
	d := l.StartDial(t, h, env, args...)
	var res DialResult
	if res.Err = d.Send(ids...); res.Err == nil {
		d.Stdin.Close()
		for {
			line, err := d.Line(ctx)
			if errors.Is(err, natlab.ErrExited) {
				res.Err = d.Stop()
				break
			}
			if err != nil {
				res.Err = err
				break
			}
			res.Stdout = append(res.Stdout, line)
		}
	}
	res.Took = time.Since(d.Started)
	// One more poll so the last lines are among the statuses.
	time.Sleep(3 * statusPoll)
	res.Statuses, res.Stderr = d.Statuses(), d.Stderr()
	return res
}
