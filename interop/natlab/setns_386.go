//go:build linux

package natlab

// sysSetns is setns(2) on 386 (see setns_amd64.go).
const sysSetns = 346
