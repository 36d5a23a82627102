package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// maxLogBytes caps how much stderr a LogBuffer keeps, so a chatty process
// at Debug level cannot exhaust memory in long tests.
const maxLogBytes = 4 << 20

var (
	// ErrProcessExited means a Node process ended before producing what
	// was waited for.
	ErrProcessExited = errors.New("interop: process exited")
	// ErrTimeout means a Node process did not answer in time.
	ErrTimeout = errors.New("interop: timed out")
)

// LogBuffer collects a process's stderr. It is safe for concurrent use.
type LogBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	dropped int
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := maxLogBytes - b.buf.Len()
	if room < len(p) {
		if room > 0 {
			b.buf.Write(p[:room])
		}
		b.dropped += len(p) - max(room, 0)
		return len(p), nil
	}
	b.buf.Write(p)
	return len(p), nil
}

// String returns everything collected so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return fmt.Sprintf("%s\n[... %d bytes dropped]", b.buf.String(), b.dropped)
	}
	return b.buf.String()
}

// lineQueue turns a process's stdout into complete lines, buffered without
// bound so a slow reader never stalls the process.
type lineQueue struct {
	mu      sync.Mutex
	partial []byte
	lines   [][]byte
	closed  bool
	notify  chan struct{} // closed and replaced whenever state changes
}

func newLineQueue() *lineQueue { return &lineQueue{notify: make(chan struct{})} }

func (q *lineQueue) Write(p []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.partial = append(q.partial, p...)
	for {
		i := bytes.IndexByte(q.partial, '\n')
		if i < 0 {
			break
		}
		q.lines = append(q.lines, bytes.TrimSuffix(q.partial[:i], []byte("\r")))
		q.partial = q.partial[i+1:]
	}
	q.wake()
	return len(p), nil
}

// close marks end of output; a trailing unterminated line still counts.
func (q *lineQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.partial) > 0 {
		q.lines = append(q.lines, q.partial)
		q.partial = nil
	}
	q.closed = true
	q.wake()
}

func (q *lineQueue) wake() {
	close(q.notify)
	q.notify = make(chan struct{})
}

// next returns the next line, or ErrProcessExited once output has ended.
func (q *lineQueue) next(ctx context.Context) ([]byte, error) {
	for {
		q.mu.Lock()
		if len(q.lines) > 0 {
			l := q.lines[0]
			q.lines = q.lines[1:]
			q.mu.Unlock()
			return l, nil
		}
		if q.closed {
			q.mu.Unlock()
			return nil, ErrProcessExited
		}
		ch := q.notify
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v", ErrTimeout, ctx.Err())
		}
	}
}

// nodeProc is one running Node script.
type nodeProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser // nil unless requested
	stdout *lineQueue
	stderr *LogBuffer
	done   chan struct{} // closed after Wait returns
}

// startNode starts `node <script> args...` from the interop/node directory,
// inside the named namespace netns if it is set, with a stdin pipe if
// withStdin. The caller must have checked the target with safeTarget.
func startNode(netns, script string, args, extraEnv []string, withStdin bool) (*nodeProc, error) {
	dir, err := NodeDir()
	if err != nil {
		return nil, err
	}
	// --no-deprecation: the binding's package.json has a bad "main", which
	// makes Node warn on every start and clutters the logs.
	name, argv := nodeCommand(netns, append([]string{"--no-deprecation", filepath.Join(dir, script)}, args...))
	cmd := exec.Command(name, argv...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), extraEnv...)
	// Node must not outlive a crashed test binary (ip netns exec execs
	// node, which keeps the death signal).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &nodeProc{cmd: cmd, stdout: newLineQueue(), stderr: &LogBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.stdout
	cmd.Stderr = p.stderr
	if withStdin {
		if p.stdin, err = cmd.StdinPipe(); err != nil {
			return nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("interop: starting node %s: %w", script, err)
	}
	go func() {
		_ = cmd.Wait() // the exit status is read from ProcessState
		p.stdout.close()
		close(p.done)
	}()
	return p, nil
}

func (p *nodeProc) signal(s os.Signal) {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(s)
	}
}

// waitExit waits up to d for the process to end and returns its exit code
// (-1 if killed by a signal).
func (p *nodeProc) waitExit(d time.Duration) (int, error) {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), nil
	case <-time.After(d):
		return 0, fmt.Errorf("%w: process still running after %v", ErrTimeout, d)
	}
}

// kill ends the process with SIGKILL and waits for it.
func (p *nodeProc) kill() {
	p.signal(syscall.SIGKILL)
	<-p.done
}

func (p *nodeProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}
