//go:build unix

package relay

import "syscall"

// fdLimit is the soft RLIMIT_NOFILE (0 if unknown).
func fdLimit() int {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil || l.Cur > 1<<30 {
		return 0
	}
	return int(l.Cur)
}
