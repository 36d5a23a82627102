//go:build linux

package natlab

// sysSetns is setns(2); package syscall names it on every Linux
// architecture but amd64 and 386.
const sysSetns = 308
