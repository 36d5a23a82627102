//go:build linux

package natlab

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// Signal sends sig to the process unless it has exited: SIGSTOP freezes
// it, SIGCONT lets it go on.
func (p *Proc) Signal(sig syscall.Signal) { p.signal(sig) }

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *Proc) Kill() {
	p.signal(syscall.SIGKILL)
	<-p.done
}

// Wait waits for the process to exit on its own and returns its status.
func (p *Proc) Wait(ctx context.Context) (int, error) {
	select {
	case <-p.done:
		return p.code, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("natlab: %s still running: %w", p.Name, ctx.Err())
	}
}

// EachLine calls fn with every stdout line not read yet and the time it
// was read, until stdout ends (the process exited). Timestamps are only
// meaningful while nothing else reads the process's lines.
func (p *Proc) EachLine(fn func(line string, at time.Time)) {
	for {
		l, err := p.Line(context.Background())
		if err != nil {
			return
		}
		fn(l, time.Now())
	}
}
