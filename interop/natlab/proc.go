//go:build linux

package natlab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	stopTimeout = 5 * time.Second
	maxLogBytes = 1 << 20
)

var (
	// ErrExited means a process ended before printing what was waited for.
	ErrExited = errors.New("natlab: process exited")
	// ErrExitStatus means a process did not exit with status 0 when stopped.
	ErrExitStatus = errors.New("natlab: process exited with non-zero status")
)

// Proc is a long-running process inside a lab host.
type Proc struct {
	Name   string
	Stdin  io.WriteCloser
	lines  *lineQueue // stdout
	stderr logBuffer
	done   chan struct{}
	code   int

	stopOnce sync.Once
	stopErr  error
	proc     *os.Process
}

// Start runs name args... inside the host's namespace until the test ends
// (then it is killed; its stderr is logged if the test failed).
func (h *Host) Start(t testing.TB, name string, args ...string) *Proc {
	t.Helper()
	cmd := h.Command(context.Background(), name, args...)
	p := &Proc{Name: h.Name + ":" + name, lines: newLineQueue(), done: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.Stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("natlab: starting %s: %v", p.Name, err)
	}
	p.proc = cmd.Process
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			p.lines.push(sc.Text())
		}
		p.lines.close()
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("%s stderr:\n%s", p.Name, p.Stderr())
		}
	})
	return p
}

// Line returns the next stdout line.
func (p *Proc) Line(ctx context.Context) (string, error) {
	l, ok, err := p.lines.next(ctx)
	switch {
	case err != nil:
		return "", fmt.Errorf("natlab: %s: waiting for output: %w\n%s", p.Name, err, p.Stderr())
	case !ok:
		return "", fmt.Errorf("%w: %s\n%s", ErrExited, p.Name, p.Stderr())
	}
	return l, nil
}

// JSONLine decodes the next stdout line into v.
func (p *Proc) JSONLine(ctx context.Context, v any) error {
	l, err := p.Line(ctx)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(l), v); err != nil {
		return fmt.Errorf("natlab: %s printed %q: %w", p.Name, l, err)
	}
	return nil
}

// Stderr returns what the process has written to stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Stop sends SIGTERM and requires exit status 0 within 5 s (the process is
// killed otherwise).
func (p *Proc) Stop() error {
	p.stopOnce.Do(func() {
		p.signal(syscall.SIGTERM)
		select {
		case <-p.done:
			if p.code != 0 {
				p.stopErr = fmt.Errorf("%w: %s: %d", ErrExitStatus, p.Name, p.code)
			}
		case <-time.After(stopTimeout):
			p.signal(syscall.SIGKILL)
			<-p.done
			p.stopErr = fmt.Errorf("natlab: %s did not exit within %v of SIGTERM", p.Name, stopTimeout)
		}
	})
	return p.stopErr
}

func (p *Proc) signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		_ = p.proc.Signal(sig)
	}
}

// logBuffer keeps the first maxLogBytes of a stream; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxLogBytes - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lineQueue buffers lines without bound, so a process never stalls on a
// test that reads only its first line.
type lineQueue struct {
	mu     sync.Mutex
	lines  []string
	closed bool
	wake   chan struct{} // closed and replaced on every change
}

func newLineQueue() *lineQueue { return &lineQueue{wake: make(chan struct{})} }

func (q *lineQueue) push(l string) {
	q.mu.Lock()
	q.lines = append(q.lines, l)
	close(q.wake)
	q.wake = make(chan struct{})
	q.mu.Unlock()
}

func (q *lineQueue) close() {
	q.mu.Lock()
	q.closed = true
	close(q.wake)
	q.wake = make(chan struct{})
	q.mu.Unlock()
}

// next returns the next line; ok is false once the stream has ended.
func (q *lineQueue) next(ctx context.Context) (line string, ok bool, err error) {
	for {
		q.mu.Lock()
		if len(q.lines) > 0 {
			l := q.lines[0]
			q.lines = q.lines[1:]
			q.mu.Unlock()
			return l, true, nil
		}
		closed, wake := q.closed, q.wake
		q.mu.Unlock()
		if closed {
			return "", false, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return "", false, ctx.Err()
		}
	}
}
