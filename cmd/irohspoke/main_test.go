package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// Facts from the iroh 1.0 identity vectors and the ground-truth hub run.
const (
	k1SecretHex = "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a"
	k1Public    = "197f6b23e16c8532c6abc838facd5ea789be0c76b2920334039bfa8b3d368d61"
	k2Secret32  = "vpnk377obfvzlipnsfbqba7ywkkenc4xlpmovt5tsfujoa75zqia" // base32
	k2Public    = "3cf359f65ae705eb279a5750eec57f4ac6efc635e04d92d60eadcca87d250f18"
	t1Ticket    = "endpointacxfr74igmsbvsbnn73wcecg5vt3kbzncqwfrdiampuufwnhkublmaqacbuhi5dqhixs6zdfojyc43lffyxqcad7aaaadaai"
	t2Ticket    = "endpointaamx62zd4fwikmwgvpedr6wnl2tytpqmo2zjeazuaon7vcz5g2gwcayaenuhi5dqom5c6l3vonstcljrfzzgk3dbpexg4mbonfzg62bonruw42zof4aqaaicamck4labaeqacdnyaaaaaaaaaaaaaaaaaaa3way"
	t3Ticket    = "endpointaamx62zd4fwikmwgvpedr6wnl2tytpqmo2zjeazuaon7vcz5g2gwcaa"
	hubTicket   = "endpointaab2cb576phbbpq5odorrz2lycmwpzgwgcn2kdk7dxoimzaskuy3qaibab7qaaab4e6a"
	hubID       = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
)

type result struct {
	code           int
	stdout, stderr string
}

// cli runs one command line in-process. Reaching the panic handler is
// always a test failure.
func cli(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	offline(t, args)
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	if code == exitInternal {
		t.Fatalf("irohspoke %q panicked: %s", args, errb.String())
	}
	return result{code, out.String(), errb.String()}
}

// offline stops a test that would run dial or hub with the default n0
// preset, which talks to n0's servers on the internet: tests pass
// --preset minimal and name loopback relays and lookup servers instead.
func offline(t testing.TB, args []string) {
	t.Helper()
	if len(args) > 0 && (args[0] == "dial" || args[0] == "hub") && !slices.Contains(args, "--preset") && !slices.Contains(args, "--help") {
		t.Fatalf("irohspoke %q: tests must not use the n0 preset (add --preset minimal)", args)
	}
}

// wantOK checks a successful run: status 0, nothing on stderr.
func wantOK(t *testing.T, r result, args ...string) {
	t.Helper()
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("irohspoke %q: exit %d, stderr %q", args, r.code, r.stderr)
	}
}

// wantError checks a failed run: the status, nothing on stdout, and one
// message "irohspoke: <cmd>: ..." containing want (plus, for usage errors,
// exactly one hint line).
func wantError(t *testing.T, r result, code int, prefix, want string, args ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("irohspoke %q: exit %d, want %d (stderr %q)", args, r.code, code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("irohspoke %q: unexpected stdout %q", args, r.stdout)
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if !strings.HasPrefix(lines[0], prefix) || !strings.Contains(lines[0], want) {
		t.Errorf("irohspoke %q: stderr %q, want prefix %q and %q", args, r.stderr, prefix, want)
	}
	wantLines := 1
	if code == exitUsage {
		wantLines = 2
		if !strings.HasPrefix(lines[len(lines)-1], "Run 'irohspoke") || !strings.HasSuffix(lines[len(lines)-1], "--help' for usage.") {
			t.Errorf("irohspoke %q: no help hint in %q", args, r.stderr)
		}
	}
	if len(lines) != wantLines {
		t.Errorf("irohspoke %q: %d stderr lines, want %d: %q", args, len(lines), wantLines, r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args   []string
		stdin  string
		prefix string // "irohspoke: <cmd>: "
		want   string
	}{
		{nil, "", "irohspoke: ", "no command given"},
		{[]string{"bogus"}, "", "irohspoke: ", `unknown command "bogus"`},
		{[]string{"--bogus"}, "", "irohspoke: ", "unknown flag --bogus"},
		{[]string{"help", "bogus"}, "", "irohspoke: ", `help: unknown command "bogus"`},
		{[]string{"help", "ticket", "bogus"}, "", "irohspoke: help: ", `unknown subcommand "bogus"`},
		{[]string{"help", "version", "extra"}, "", "irohspoke: ", `unexpected argument "extra"`},

		{[]string{"keygen", "--bogus"}, "", "irohspoke: keygen: ", "unknown flag -bogus"},
		{[]string{"keygen", "extra"}, "", "irohspoke: keygen: ", `unexpected argument "extra"`},
		{[]string{"keygen", "--out"}, "", "irohspoke: keygen: ", "flag needs an argument: -out"},
		{[]string{"keygen", "--out", ""}, "", "irohspoke: keygen: ", "--out must not be empty"},
		{[]string{"keygen", "--force=maybe", "--out", filepath.Join(dir, "k")}, "", "irohspoke: keygen: ", "invalid boolean value"},

		{[]string{"id"}, "", "irohspoke: id: ", "missing --key FILE or --secret-hex HEX"},
		{[]string{"id", "--key", "f", "--secret-hex", k1SecretHex}, "", "irohspoke: id: ", "either --key or --secret-hex"},
		{[]string{"id", "--key", ""}, "", "irohspoke: id: ", "--key must not be empty"},
		{[]string{"id", "--secret-hex", ""}, "", "irohspoke: id: ", "has 0 characters"},
		{[]string{"id", "--secret-hex", "abc"}, "", "irohspoke: id: ", "invalid --secret-hex: invalid length"},
		{[]string{"id", "--secret-hex", k1SecretHex[:62]}, "", "irohspoke: id: ", "has 62 characters"},
		{[]string{"id", "--secret-hex", k1SecretHex + "2a"}, "", "irohspoke: id: ", "has 66 characters"},
		{[]string{"id", "--secret-hex", k1SecretHex[:63] + "g"}, "", "irohspoke: id: ", "hex digit 'g'"},
		{[]string{"id", "--secret-hex", strings.ToUpper(k1Public)}, "", "irohspoke: id: ", "must be lowercase"},
		{[]string{"id", "--secret-hex", "-"}, "", "irohspoke: id: ", "no key on stdin"},
		{[]string{"id", "--secret-hex", "-"}, "zz\n", "irohspoke: id: ", "invalid --secret-hex"},
		{[]string{"id", "--secret-hex", k1SecretHex, "extra"}, "", "irohspoke: id: ", `unexpected argument "extra"`},
		{[]string{"id", "--secret", k1SecretHex}, "", "irohspoke: id: ", "unknown flag -secret"},

		{[]string{"ticket"}, "", "irohspoke: ticket: ", "missing subcommand (decode or encode)"},
		{[]string{"ticket", "bogus"}, "", "irohspoke: ticket: ", `unknown subcommand "bogus" (want decode or encode)`},
		{[]string{"ticket", "--bogus"}, "", "irohspoke: ticket: ", "unknown flag --bogus"},
		{[]string{"ticket", "decode"}, "", "irohspoke: ticket decode: ", "missing TICKET argument"},
		{[]string{"ticket", "decode", t1Ticket, t2Ticket}, "", "irohspoke: ticket decode: ", "unexpected argument"},
		{[]string{"ticket", "decode", t1Ticket, "--json"}, "", "irohspoke: ticket decode: ", "unknown flag -json"},
		{[]string{"ticket", "decode", "garbage"}, "", "irohspoke: ticket decode: ", `invalid endpoint ticket: missing "endpoint" prefix`},
		{[]string{"ticket", "decode", "endpointaa"}, "", "irohspoke: ticket decode: ", "invalid endpoint ticket"},
		{[]string{"ticket", "decode", t3Ticket[:len(t3Ticket)-1] + "b"}, "", "irohspoke: ticket decode: ", "invalid endpoint ticket"},
		{[]string{"ticket", "decode", t2Ticket[:60]}, "", "irohspoke: ticket decode: ", "invalid endpoint ticket"},
		{[]string{"ticket", "decode", "-"}, "\n", "irohspoke: ticket decode: ", "no ticket on stdin"},
		{[]string{"ticket", "encode"}, "", "irohspoke: ticket encode: ", "missing --id"},
		{[]string{"ticket", "encode", "--id", "xyz"}, "", "irohspoke: ticket encode: ", "invalid --id: invalid length"},
		{[]string{"ticket", "encode", "--id", k1Public, "extra"}, "", "irohspoke: ticket encode: ", `unexpected argument "extra"`},
		{[]string{"ticket", "encode", "--id", k1Public, "--addr", "1.2.3.4"}, "", "irohspoke: ticket encode: ", `invalid --addr "1.2.3.4": missing port (want IP:PORT, e.g. 1.2.3.4:1234)`},
		{[]string{"ticket", "encode", "--id", k1Public, "--addr", "[2001:db8::1]"}, "", "irohspoke: ticket encode: ", "missing port (want IP:PORT, e.g. [2001:db8::1]:1234)"},
		{[]string{"ticket", "encode", "--id", k1Public, "--addr", "2001:db8::1"}, "", "irohspoke: ticket encode: ", "missing port"},
		{[]string{"ticket", "encode", "--id", k1Public, "--addr", "example.com:80"}, "", "irohspoke: ticket encode: ", "want an IP address and port"},
		{[]string{"ticket", "encode", "--id", k1Public, "--addr", "1.2.3.4:99999"}, "", "irohspoke: ticket encode: ", "want an IP address and port"},
		{[]string{"ticket", "encode", "--id", k1Public, "--addr", "[fe80::1%eth0]:5"}, "", "irohspoke: ticket encode: ", "IPv6 zone"},
		{[]string{"ticket", "encode", "--id", k1Public, "--relay", "ftp://x"}, "", "irohspoke: ticket encode: ", `invalid --relay: unsupported address: relay URL "ftp://x" has scheme "ftp"`},
		{[]string{"ticket", "encode", "--id", k1Public, "--relay", "relay.example.com"}, "", "irohspoke: ticket encode: ", "invalid --relay: invalid relay URL"},

		{[]string{"version", "extra"}, "", "irohspoke: version: ", `unexpected argument "extra"`},
		{[]string{"version", "--bogus"}, "", "irohspoke: version: ", "unknown flag -bogus"},
	}
	for _, tt := range tests {
		r := cli(t, tt.stdin, tt.args...)
		wantError(t, r, exitUsage, tt.prefix, tt.want, tt.args...)
	}
}

func TestHelp(t *testing.T) {
	top := cli(t, "", "--help")
	wantOK(t, top, "--help")
	for _, want := range []string{"keygen", "id", "ticket", "version", "Exit status:", "0   success", "1   runtime failure", "2   usage error"} {
		if !strings.Contains(top.stdout, want) {
			t.Errorf("top-level help lacks %q", want)
		}
	}
	cases := [][]string{{"-h"}, {"-help"}, {"help"}}
	for _, path := range [][]string{{"keygen"}, {"id"}, {"ticket"}, {"ticket", "decode"}, {"ticket", "encode"}, {"version"}} {
		for _, flag := range []string{"-h", "--help", "-help"} {
			cases = append(cases, append(append([]string{}, path...), flag))
		}
		cases = append(cases, append([]string{"help"}, path...))
	}
	// --help wins over other flags and arguments.
	cases = append(cases, []string{"ticket", "decode", "garbage", "--help"}, []string{"id", "--secret-hex", "x", "-h"})
	for _, args := range cases {
		r := cli(t, "", args...)
		wantOK(t, r, args...)
		if !strings.HasPrefix(r.stdout, "Usage: irohspoke ") && !strings.HasPrefix(r.stdout, "irohspoke: a pure-Go client") {
			t.Errorf("irohspoke %q: help output %q", args, r.stdout)
		}
	}
	if r := cli(t, "", "help", "ticket", "encode"); !strings.Contains(r.stdout, "-addr IP:PORT") {
		t.Errorf("ticket encode help lacks flag list: %s", r.stdout)
	}
}

func TestPanicIsLastResort(t *testing.T) {
	saved := commands
	t.Cleanup(func() { commands = saved })
	commands = append(commands[:len(commands):len(commands)], &command{
		name: "boom",
		flags: func(*flag.FlagSet) runFunc {
			return func(context.Context, []string, io.Reader, io.Writer, io.Writer) error { panic("kaboom") }
		},
	})
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"boom"}, strings.NewReader(""), &out, &errb)
	if code != exitInternal || !strings.Contains(errb.String(), "internal error") || !strings.Contains(errb.String(), "kaboom") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

// TestBinary builds the real executable and checks exit statuses as the
// shell sees them.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "irohspoke")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	// In a git checkout, stamp the revision (GOFLAGS may turn it off).
	inGit := exec.Command("git", "rev-parse", "--git-dir").Run() == nil
	buildArgs := []string{"build", "-o", bin}
	if inGit {
		buildArgs = append(buildArgs, "-buildvcs=true")
	}
	build := exec.Command("go", append(buildArgs, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	key := filepath.Join(dir, "k.key")
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
	}{
		{nil, 2, ""},
		{[]string{"--help"}, 0, "irohspoke: a pure-Go client"},
		{[]string{"id", "--secret-hex", k1SecretHex}, 0, k1Public + "\n"},
		{[]string{"id", "--secret-hex", "abc"}, 2, ""},
		{[]string{"keygen", "--out", key}, 0, ""},
		{[]string{"keygen", "--out", key}, 1, ""},
		{[]string{"ticket", "decode", hubTicket}, 0, `{"endpointId":"` + hubID},
		{[]string{"ticket", "decode", "bad"}, 2, ""},
		{[]string{"version"}, 0, "irohspoke "},
	} {
		cmd := exec.Command(bin, tc.args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || !strings.HasPrefix(out.String(), tc.stdout) {
			t.Errorf("%q: exit %d stdout %q stderr %q; want exit %d stdout %q", tc.args, code, out.String(), errb.String(), tc.code, tc.stdout)
		}
		if (code == 0) != (errb.Len() == 0) {
			t.Errorf("%q: stderr %q with exit %d", tc.args, errb.String(), code)
		}
	}
	if _, err := os.Stat(key); err != nil {
		t.Fatal(err)
	}
	// Built inside the git checkout, the binary knows its revision.
	if inGit {
		out, err := exec.Command(bin, "version").Output()
		if err != nil || !strings.Contains(string(out), "\nrevision ") {
			t.Errorf("version: %q, %v; want a revision line", out, err)
		}
	}
}
