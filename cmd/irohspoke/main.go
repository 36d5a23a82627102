// Command irohspoke is the command-line front end of irohspoke, a pure-Go
// client for iroh 1.0 hubs. Run "irohspoke help" for the command list.
//
// Every command is a *command in the table below with its own flag.FlagSet
// and a run function that receives its context, arguments and standard
// streams, so commands can be tested in-process. To add a command, write it
// in its own file and list it in commands.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
)

// Exit codes, documented in the top-level help. Later commands (dial) add
// their own above 2; 70 (EX_SOFTWARE) is reserved for bugs.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitInternal = 70
)

const progName = "irohspoke"

// commands is the command table, in help order.
var commands = []*command{
	keygenCommand,
	idCommand,
	ticketCommand,
	dialCommand,
	hubCommand,
	relayCommand,
	lookupServerCommand,
	demoCommand,
	versionCommand,
}

func main() {
	// The CLI never writes a heap profile; sampling one costs a stack walk
	// per 512 KiB allocated, a noticeable share of a one-shot dial.
	runtime.MemProfileRate = 0
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		// Last resort: a panic is a bug, but the user still gets one line
		// and a distinct exit code instead of a goroutine dump.
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "%s: internal error (please report this bug): %v\n", progName, r)
			if os.Getenv("IROHSPOKE_TRACEBACK") != "" {
				stderr.Write(debug.Stack())
			}
			code = exitInternal
		}
	}()
	if len(args) == 0 {
		return reportUsage(stderr, nil, "no command given")
	}
	switch name := args[0]; {
	case name == "-h" || name == "-help" || name == "--help":
		printTopUsage(stdout)
		return exitOK
	case name == "help":
		return runHelp(args[1:], stdout, stderr)
	case strings.HasPrefix(name, "-"):
		return reportUsage(stderr, nil, fmt.Sprintf("unknown flag %s (flags go after the command)", name))
	}
	cmd, rest, err := resolve(args)
	if err != nil {
		return reportUsage(stderr, cmd, err.Error())
	}
	return exitCode(stderr, cmd, cmd.execute(ctx, rest, stdin, stdout, stderr))
}

// resolve walks the command tree along args and returns the deepest command
// named, and the remaining arguments. On error cmd is the deepest command
// found so far (nil at the top level).
func resolve(args []string) (cmd *command, rest []string, err error) {
	table := commands
	for len(args) > 0 {
		name := args[0]
		if len(table) == 0 || (cmd != nil && strings.HasPrefix(name, "-")) {
			break
		}
		next := lookup(table, name)
		if next == nil && cmd != nil {
			return cmd, nil, fmt.Errorf("unknown subcommand %q (want %s)", name, cmd.subcommandNames())
		}
		if next == nil {
			return nil, nil, fmt.Errorf("unknown command %q", name)
		}
		cmd, args, table = next, args[1:], next.subcommands
	}
	if cmd == nil {
		return nil, nil, errors.New("no command given")
	}
	return cmd, args, nil
}

func lookup(table []*command, name string) *command {
	for _, c := range table {
		if c.name == name {
			return c
		}
	}
	return nil
}

func runHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printTopUsage(stdout)
		return exitOK
	}
	cmd, rest, err := resolve(args)
	if err != nil {
		return reportUsage(stderr, nil, "help: "+err.Error())
	}
	if len(rest) > 0 {
		return reportUsage(stderr, nil, fmt.Sprintf("help: unexpected argument %q", rest[0]))
	}
	cmd.printUsage(stdout)
	return exitOK
}

// exitCode reports err (if any) on stderr and maps it to an exit status.
func exitCode(stderr io.Writer, cmd *command, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errHelpShown) {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return reportUsage(stderr, cmd, ue.msg)
	}
	code := exitFailure
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		code = ec.ExitCode()
	}
	if cmd.jsonErrors {
		reportJSONError(stderr, err, code)
	} else {
		fmt.Fprintf(stderr, "%s: %s: %s\n", progName, cmd.path(), describe(err))
	}
	return code
}

// reportJSONError ends a command whose stderr is a stream of JSON lines
// with one more: {"event":"error","kind":..,"error":..,"hint":..,"exit":..}.
func reportJSONError(stderr io.Writer, err error, code int) {
	line := struct {
		Event string `json:"event"`
		Kind  string `json:"kind"`
		Error string `json:"error"`
		Hint  string `json:"hint,omitempty"`
		Exit  int    `json:"exit"`
	}{"error", kindRuntime, describe(err), "", code}
	var ex *explained
	if errors.As(err, &ex) {
		line.Kind, line.Error, line.Hint = ex.kind, ex.msg, ex.hint
	}
	b, _ := json.Marshal(line)
	stderr.Write(append(b, '\n'))
}

// reportUsage prints one usage complaint plus a pointer to the help.
func reportUsage(stderr io.Writer, cmd *command, msg string) int {
	if cmd == nil {
		fmt.Fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", progName, msg, progName)
	} else {
		fmt.Fprintf(stderr, "%s: %s: %s\nRun '%s %s --help' for usage.\n", progName, cmd.path(), msg, progName, cmd.path())
	}
	return exitUsage
}

func printTopUsage(w io.Writer) {
	fmt.Fprintf(w, `%[1]s: a pure-Go client for iroh 1.0 hubs

Usage:
  %[1]s <command> [flags] [arguments]

Commands:
`, progName)
	width := len("help")
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-*s %s\n", width, "help", "show help for a command")
	fmt.Fprintf(w, `
Run '%[1]s help <command>' or '%[1]s <command> --help' for details.
Flags may be written with one or two dashes.

Exit status:
  0   success
  1   runtime failure (for example an existing, unreadable or malformed file)
  2   usage error or bad input (unknown command or flag, bad key, bad ticket)
  70  internal error (a bug; please report it)
`, progName)
}
