package oneshot

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// stamped is a line and when it arrived, counted from the process start.
type stamped struct {
	at   time.Duration
	line string
}

// run is one finished process with its timestamped output.
type run struct {
	wall           time.Duration // start to exit
	stdout, stderr []stamped
}

// runOnce starts bin, feeds it stdin, and records every output line's
// arrival until it exits (at most 10 s).
func runOnce(b *testing.B, stdin string, env []string, bin string, args ...string) run {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	var r run
	var wg sync.WaitGroup
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	wg.Go(func() { r.stdout = stampLines(outPipe, start) })
	wg.Go(func() { r.stderr = stampLines(errPipe, start) })
	wg.Wait()
	err = cmd.Wait()
	r.wall = time.Since(start)
	if err != nil {
		b.Fatalf("%s %s: %v\nstdout %v\nstderr %v", filepath.Base(bin), strings.Join(args, " "), err, r.stdout, r.stderr)
	}
	return r
}

func stampLines(rd io.Reader, start time.Time) []stamped {
	var out []stamped
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		out = append(out, stamped{time.Since(start), sc.Text()})
	}
	return out
}

// first is when the first line containing s arrived.
func first(lines []stamped, s string) (time.Duration, bool) {
	for _, l := range lines {
		if strings.Contains(l.line, s) {
			return l.at, true
		}
	}
	return 0, false
}

var initLine = regexp.MustCompile(`^init \S+ @[0-9.]+ ms, ([0-9.]+) ms clock`)

// initTime sums GODEBUG=inittrace=1's per-package init clock times.
func initTime(lines []stamped) time.Duration {
	var total float64
	for _, l := range lines {
		if m := initLine.FindStringSubmatch(l.line); m != nil {
			ms, _ := strconv.ParseFloat(m[1], 64)
			total += ms
		}
	}
	return time.Duration(total * float64(time.Millisecond))
}

// build compiles a package of this module into dir and returns the
// installed copy (see install) and the linker's own output.
func build(b *testing.B, dir, pkg string) (installed, linked string) {
	b.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		b.Fatalf("go env GOMOD: %v", err)
	}
	linked = filepath.Join(dir, "linked-"+filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", linked, pkg)
	cmd.Dir = filepath.Dir(string(bytes.TrimSpace(gomod)))
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	installed = filepath.Join(dir, filepath.Base(pkg))
	if err := install(linked, installed); err != nil {
		b.Fatal(err)
	}
	return installed, linked
}

// install copies a binary with plain writes, as installing, downloading or
// reading it back from disk would. The Go linker writes its output through
// a memory mapping, which leaves the file in the page cache as single
// pages; a written copy is cached in large folios, which exec maps with
// fewer, cheaper faults (about 1 ms less CPU per one-shot dial on the
// 2-core VM). Every binary measured here is installed the same way.
func install(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}

// server starts a long-running process, returns its first stdout line and
// stops it when the benchmark ends.
func server(b *testing.B, bin string, args ...string) string {
	b.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case l := <-line:
		if l == "" {
			b.Fatalf("%s printed no ready line: %s", filepath.Base(bin), stderr.String())
		}
		return l
	case <-time.After(10 * time.Second):
		b.Fatalf("%s: no ready line after 10 s: %s", filepath.Base(bin), stderr.String())
	}
	return ""
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (s stamped) String() string { return fmt.Sprintf("%v %q", s.at, s.line) }
