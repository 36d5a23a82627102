package gateway

import (
	"errors"
	"os"
	"syscall"
)

// readDefaultRoutes asks the kernel over netlink and falls back to
// /proc/net/route (IPv4 only) when netlink is unavailable.
func readDefaultRoutes() ([]Route, error) {
	dump, nlErr := syscall.NetlinkRIB(syscall.RTM_GETROUTE, syscall.AF_UNSPEC)
	if nlErr == nil {
		routes, err := ParseRouteDump(dump)
		if err == nil {
			return routes, nil
		}
		nlErr = err
	}
	text, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return nil, errors.Join(nlErr, err)
	}
	return ParseProcRoute(text)
}
