package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

var versionCommand = &command{
	name:    "version",
	summary: "print version information",
	help: `
Prints the module version, the VCS revision the binary was built from (when
known) and the Go version and platform.`,
	flags: func(fs *flag.FlagSet) runFunc {
		return func(_ context.Context, args []string, _ io.Reader, stdout, _ io.Writer) error {
			if err := noArgs(args); err != nil {
				return err
			}
			info, ok := debug.ReadBuildInfo()
			_, err := io.WriteString(stdout, formatVersion(info, ok))
			return err
		}
	},
}

func formatVersion(info *debug.BuildInfo, ok bool) string {
	version := "(devel)"
	var revision, modified, when string
	if ok {
		if v := info.Main.Version; v != "" {
			version = v
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (modified)"
				}
			}
		}
	}
	out := fmt.Sprintf("%s %s\n", progName, version)
	if revision != "" {
		out += fmt.Sprintf("revision %s%s", revision, modified)
		if when != "" {
			out += " " + when
		}
		out += "\n"
	}
	return out + fmt.Sprintf("%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
