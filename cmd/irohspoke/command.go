package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one entry of the command tree. A command has either a run
// function or subcommands.
type command struct {
	name        string
	summary     string // one line for the command list
	args        string // synopsis after the command path, e.g. "[--force] FILE"
	help        string // paragraphs shown by --help
	parent      *command
	subcommands []*command
	// jsonErrors: stderr carries JSON lines (status, logs), so a runtime
	// failure is reported as one more JSON line; usage errors stay text.
	jsonErrors bool
	// flags declares the command's flags on fs and returns the function
	// that runs the command once they are parsed.
	flags func(fs *flag.FlagSet) runFunc
}

// runFunc runs a command with its positional arguments. It returns a
// *usageError for bad invocations or input (exit 2), any other error for
// runtime failures (exit 1, or the error's ExitCode() if it has one).
type runFunc func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

// usageError marks bad command-line input; it leads to exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelpShown ends a command successfully after --help.
var errHelpShown = errors.New("help shown")

func (c *command) path() string {
	if c.parent == nil {
		return c.name
	}
	return c.parent.path() + " " + c.name
}

func (c *command) newFlagSet() (*flag.FlagSet, runFunc) {
	fs := flag.NewFlagSet(c.path(), flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by exitCode, help by printUsage
	var fn runFunc
	if c.flags != nil {
		fn = c.flags(fs)
	}
	return fs, fn
}

func (c *command) execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(c.subcommands) > 0 {
		// resolve stopped here: args is empty or starts with a flag.
		if len(args) > 0 && isHelpFlag(args[0]) {
			c.printUsage(stdout)
			return errHelpShown
		}
		if len(args) > 0 {
			return usageErrorf("unknown flag %s", args[0])
		}
		return usageErrorf("missing subcommand (%s)", c.subcommandNames())
	}
	fs, fn := c.newFlagSet()
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.printUsage(stdout)
		return errHelpShown
	}
	if err != nil {
		// The flag package's wording is the least clear of its messages.
		return &usageError{msg: strings.Replace(err.Error(), "flag provided but not defined:", "unknown flag", 1)}
	}
	return fn(ctx, positional, stdin, stdout, stderr)
}

func isHelpFlag(s string) bool { return s == "-h" || s == "--help" || s == "-help" || s == "--h" }

// parseInterspersed lets flags follow positional arguments ("ticket decode
// T --json"), which the flag package alone stops at. "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func (c *command) subcommandNames() string {
	names := make([]string, len(c.subcommands))
	for i, s := range c.subcommands {
		names[i] = s.name
	}
	return strings.Join(names, " or ")
}

func (c *command) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s %s", progName, c.path())
	if c.args != "" {
		fmt.Fprintf(w, " %s", c.args)
	}
	fmt.Fprintf(w, "\n\n%s\n", strings.TrimSpace(c.help))
	if len(c.subcommands) > 0 {
		fmt.Fprintf(w, "\nSubcommands:\n")
		for _, s := range c.subcommands {
			fmt.Fprintf(w, "  %-8s %s\n", s.name, s.summary)
		}
		fmt.Fprintf(w, "\nRun '%s %s <subcommand> --help' for details.\n", progName, c.path())
		return
	}
	fs, _ := c.newFlagSet()
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintf(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// noArgs rejects positional arguments for commands that take none.
func noArgs(args []string) error {
	if len(args) > 0 {
		return usageErrorf("unexpected argument %q", args[0])
	}
	return nil
}

// linkParents wires up parent pointers for nested command tables.
func linkParents(parent *command, subs ...*command) []*command {
	for _, s := range subs {
		s.parent = parent
	}
	return subs
}
