//go:build linux

package natlab

import "testing"

// StartMiniupnpd runs "miniupnpd -d -f conf -P pidFile" on h.
//
// With -d miniupnpd logs each debug line to stderr and also through
// syslog, which, with no /dev/log, falls back to /dev/console: the VM's
// emulated serial port, costing more CPU than the daemon's work and
// slowing every process in the lab. In the private mount namespace that
// "ip netns exec" gives the daemon, the console is /dev/null; the log
// stays on stderr.
func (h *Host) StartMiniupnpd(t testing.TB, conf, pidFile string) *Proc {
	t.Helper()
	return h.Start(t, "sh", "-c", `mount --bind /dev/null /dev/console && exec miniupnpd -d -f "$1" -P "$2"`,
		"miniupnpd", conf, pidFile)
}
