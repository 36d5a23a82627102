package main

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
)

// networkCommands serve or dial; the fuzz target leaves them out.
var networkCommands = []string{"dial", "hub", "relay", "lookup-server", "demo"}

// FuzzRun feeds arbitrary command lines (arguments separated by NUL) and
// stdin to the CLI: it must never panic and must exit 0, 1 or 2, with a
// message on stderr exactly when it fails.
func FuzzRun(f *testing.F) {
	for _, seed := range []string{
		"", "--help", "help\x00ticket\x00decode", "id\x00--secret-hex\x00" + k1SecretHex,
		"id\x00--secret-hex\x00-", "ticket\x00decode\x00" + t2Ticket, "ticket\x00decode\x00-",
		"ticket\x00encode\x00--id\x00" + k1Public + "\x00--addr\x00[::1]:5\x00--relay\x00https://r.example",
		"ticket\x00encode\x00--addr=1.2.3.4\x00--\x00x", "version\x00-h", "ticket\x00--bogus",
	} {
		f.Add(seed, hubTicket)
	}
	f.Fuzz(func(t *testing.T, line, stdin string) {
		args := strings.Split(line, "\x00")
		if line == "" {
			args = nil
		}
		for _, a := range args {
			if a == "keygen" || strings.HasPrefix(a, "--key") || strings.HasPrefix(a, "-key") {
				return // touches the file system
			}
		}
		if len(args) > 0 && slices.Contains(networkCommands, args[0]) {
			return // would open sockets, or reach n0's servers with dial's and hub's defaults
		}
		var out, errb bytes.Buffer
		code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
		switch code {
		case exitOK:
			if errb.Len() != 0 {
				t.Fatalf("%q: exit 0 with stderr %q", args, errb.String())
			}
		case exitFailure, exitUsage:
			if !strings.HasPrefix(errb.String(), "irohspoke: ") || out.Len() != 0 {
				t.Fatalf("%q: exit %d, stdout %q, stderr %q", args, code, out.String(), errb.String())
			}
		default:
			t.Fatalf("%q: exit %d, stderr %q", args, code, errb.String())
		}
	})
}

// FuzzLineReader: dial's stdin reader returns exactly the input's lines,
// each at most max bytes, and reports a longer one by its length
// (newline included) instead of its bytes, then goes on with the next.
func FuzzLineReader(f *testing.F) {
	for _, seed := range []string{"", "a\nb\n", "abc", "\n\n", "toolong\nok\n", "x\r\ny", strings.Repeat("z", 70000) + "\nend"} {
		f.Add(seed, uint8(4))
	}
	f.Fuzz(func(t *testing.T, in string, max uint8) {
		want := strings.Split(in, "\n")
		if strings.HasSuffix(in, "\n") || in == "" {
			want = want[:len(want)-1]
		}
		lr := newLineReader(strings.NewReader(in), int(max))
		for i := 0; ; i++ {
			line, tooLong, err := lr.next()
			if err == io.EOF {
				if i != len(want) {
					t.Fatalf("%d lines, want %d", i, len(want))
				}
				return
			}
			if err != nil || i >= len(want) {
				t.Fatalf("line %d: %v (want %d lines)", i, err, len(want))
			}
			w := want[i]
			if len(w) > int(max) {
				if line != nil || tooLong < len(w) || tooLong > len(w)+1 {
					t.Fatalf("line %d (%d bytes, max %d): got %q, tooLong %d", i, len(w), max, line, tooLong)
				}
			} else if string(line) != w || tooLong != 0 {
				t.Fatalf("line %d: got %q (tooLong %d), want %q", i, line, tooLong, w)
			}
		}
	})
}
