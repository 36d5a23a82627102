package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/spoke"
	"github.com/alkdev/irohspoke/wire"
)

// SpokeCommand, as the first argument of a chaos test binary, makes it run
// RunSpoke instead of the tests: a spoke of our library that runs inside a
// lab host like "irohspoke dial", with QUIC timeouts of its own.
const SpokeCommand = "chaos-spoke"

// Exit statuses of RunSpoke, as irohspoke dial's.
const (
	exitOK      = 0
	exitUsage   = 2
	exitConnect = 3
	exitLost    = 4
)

// maxLine bounds one stdin line: a frame body plus JSON slack.
const maxLine = wire.DefaultMaxFrameSize + 1024

type spokeFlags struct {
	hub             identity.EndpointAddr
	bind            string
	idle, keepAlive time.Duration
	linger          time.Duration
}

func parseSpokeFlags(args []string) (spokeFlags, error) {
	fs := flag.NewFlagSet(SpokeCommand, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	id := fs.String("hub", "", "hub EndpointId")
	addr := fs.String("addr", "", "hub IP:PORT")
	relay := fs.String("relay", "", "hub relay URL")
	var f spokeFlags
	fs.StringVar(&f.bind, "bind", "0.0.0.0:0", "local UDP IP:PORT")
	fs.DurationVar(&f.idle, "idle-timeout", 5*time.Second, "QUIC idle timeout")
	fs.DurationVar(&f.keepAlive, "keepalive", time.Second, "QUIC keep-alive interval")
	fs.DurationVar(&f.linger, "linger", time.Second, "quiet time before exiting after stdin ends")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if f.hub.ID, err = identity.ParseEndpointID(*id); err != nil {
		return f, fmt.Errorf("--hub: %w", err)
	}
	if *addr != "" {
		ap, err := netip.ParseAddrPort(*addr)
		if err != nil {
			return f, fmt.Errorf("--addr: %w", err)
		}
		f.hub.Addrs = []netip.AddrPort{ap}
	}
	if *relay != "" {
		u, err := identity.NormalizeRelayURL(*relay)
		if err != nil {
			return f, fmt.Errorf("--relay: %w", err)
		}
		f.hub.Relays = []string{u}
	}
	if f.hub.IsEmpty() {
		return f, errors.New("--addr or --relay is required")
	}
	if f.idle <= 0 || f.keepAlive <= 0 || f.linger < 0 {
		return f, errors.New("--idle-timeout and --keepalive must be positive, --linger not negative")
	}
	return f, nil
}

// RunSpoke connects to the hub, sends every stdin line (an envelope) as an
// event and prints every frame received on stdout, one JSON line each.
// stderr gets JSON status lines ({"event":"disconnected","error":…}), one
// {"event":"failed_event","id":…} per event given up, and, after stdin
// ended, every event was acknowledged and --linger passed with nothing
// received, {"event":"stats",…}. It returns the exit status: 0 when every
// event was acknowledged, 2 for bad flags, 3 if the first connection
// failed, 4 if events were given up.
func RunSpoke(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	out := &jsonLines{stdout: stdout, stderr: stderr}
	f, err := parseSpokeFlags(args)
	if err != nil {
		out.status(map[string]any{"event": "usage", "error": err.Error()})
		return exitUsage
	}
	ep, err := endpoint.Bind(ctx, endpoint.Options{
		BindAddr: f.bind,
		QUIC:     &quic.Config{IdleTimeout: f.idle, KeepAlive: f.keepAlive},
	})
	if err != nil {
		out.status(map[string]any{"event": "bind_failed", "error": err.Error()})
		return exitConnect
	}
	defer ep.Close()
	var failed atomic.Int64
	t, err := spoke.Dial(ctx, ep, f.hub,
		spoke.WithStatus(out.statusEvent),
		spoke.WithOnFailed(func(e wire.Envelope, err error) {
			failed.Add(1)
			out.status(map[string]any{"event": "failed_event", "id": e.ID, "error": err.Error()})
		}))
	if err != nil {
		out.status(map[string]any{"event": "dial_failed", "error": err.Error()})
		return exitConnect
	}
	t.AddListener(spoke.Wildcard, out.frame)
	if err := dispatchLines(ctx, t, stdin, out); err == nil {
		if err := t.Flush(ctx); err == nil {
			out.waitQuiet(ctx, f.linger)
		}
	}
	t.Close()
	st := t.Status().Stats
	out.status(map[string]any{"event": "stats", "dispatched": st.Dispatched, "delivered": st.Delivered,
		"resent": st.Resent, "failed": st.Failed, "received": st.Received})
	if failed.Load() > 0 {
		return exitLost
	}
	return exitOK
}

// dispatchLines dispatches each stdin line; a malformed one is reported
// and skipped.
func dispatchLines(ctx context.Context, t *spoke.Target, stdin io.Reader, out *jsonLines) error {
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		e, err := wire.ParseEnvelope(sc.Bytes())
		if err == nil {
			err = t.Dispatch(ctx, e)
		}
		if errors.Is(err, spoke.ErrClosed) || ctx.Err() != nil {
			return err
		}
		if err != nil {
			out.status(map[string]any{"event": "bad_input", "line": n, "error": err.Error()})
		}
	}
	return sc.Err()
}

// jsonLines writes stdout and stderr lines whole, from any goroutine.
type jsonLines struct {
	mu             sync.Mutex
	stdout, stderr io.Writer
	lastFrame      atomic.Int64 // unix nanoseconds of the last frame
}

func (o *jsonLines) write(w io.Writer, line []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, _ = w.Write(append(line, '\n'))
}

func (o *jsonLines) status(v map[string]any) {
	b, err := json.Marshal(v)
	if err == nil {
		o.write(o.stderr, b)
	}
}

func (o *jsonLines) statusEvent(ev spoke.StatusEvent) {
	v := map[string]any{"event": string(ev.Kind)}
	if ev.Path != "" {
		v["path"] = ev.Path
	}
	if ev.Kind == spoke.EventReconnected {
		v["resent"] = ev.Resent
	}
	if ev.Kind == spoke.EventFailed {
		v["failed"] = ev.Failed
	}
	if ev.Err != nil {
		v["error"] = ev.Err.Error()
	}
	o.status(v)
}

// frame prints a received envelope as one compact JSON line.
func (o *jsonLines) frame(e wire.Envelope) {
	o.lastFrame.Store(time.Now().UnixNano())
	if frame, err := wire.AppendFrame(nil, e); err == nil {
		o.write(o.stdout, frame[4:])
	}
}

// waitQuiet returns once linger passed with no frame received.
func (o *jsonLines) waitQuiet(ctx context.Context, linger time.Duration) {
	start := time.Now().UnixNano() // quiet counts from now if nothing came yet
	for {
		quiet := time.Since(time.Unix(0, max(start, o.lastFrame.Load())))
		if quiet >= linger {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(linger - quiet):
		}
	}
}
