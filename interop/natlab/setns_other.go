//go:build linux && !amd64 && !386

package natlab

import "syscall"

const sysSetns = syscall.SYS_SETNS
