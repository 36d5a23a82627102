package main

import (
	"io"
	"log/slog"
	"strings"
)

// logLevel is a --log-level value: a slog level, or off; set is false
// when the flag was not given.
type logLevel struct {
	level slog.Level
	off   bool
	set   bool
}

// The commands' defaults.
var (
	logOff  = logLevel{off: true, set: true}
	logInfo = logLevel{level: slog.LevelInfo, set: true}
)

// parseLogLevel reads --log-level; "" is unset.
func parseLogLevel(s string) (logLevel, error) {
	l := logLevel{set: true}
	switch strings.ToLower(s) {
	case "":
		return logLevel{}, nil
	case "off", "none":
		l.off = true
	case "debug":
		l.level = slog.LevelDebug
	case "info":
		l.level = slog.LevelInfo
	case "warn", "warning":
		l.level = slog.LevelWarn
	case "error":
		l.level = slog.LevelError
	default:
		return logLevel{}, usageErrorf("--log-level %q: want debug, info, warn, error or off", s)
	}
	return l, nil
}

// or is l, or def when the flag was not given.
func (l logLevel) or(def logLevel) logLevel {
	if l.set {
		return l
	}
	return def
}

// logger writes JSON lines to w at the level, with microsecond times
// (slog's own are milliseconds, too coarse for hole-punching timelines);
// when off it discards.
func (l logLevel) logger(w io.Writer) *slog.Logger {
	if l.off {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: l.level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
				a.Value = slog.StringValue(a.Value.Time().UTC().Format("2006-01-02T15:04:05.000000Z"))
			}
			return a
		},
	}))
}
