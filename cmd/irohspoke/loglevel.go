package main

import (
	"io"
	"log/slog"
	"strings"
)

// logLevel is a --log-level value: a slog level, or off.
type logLevel struct {
	level slog.Level
	off   bool
}

// parseLogLevel reads --log-level; "" gives def.
func parseLogLevel(s, def string) (logLevel, error) {
	if s == "" {
		s = def
	}
	switch strings.ToLower(s) {
	case "off", "none":
		return logLevel{off: true}, nil
	case "debug":
		return logLevel{level: slog.LevelDebug}, nil
	case "info":
		return logLevel{level: slog.LevelInfo}, nil
	case "warn", "warning":
		return logLevel{level: slog.LevelWarn}, nil
	case "error":
		return logLevel{level: slog.LevelError}, nil
	}
	return logLevel{}, usageErrorf("--log-level %q: want debug, info, warn, error or off", s)
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
