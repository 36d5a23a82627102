package netmon

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// netlinkGroups are the multicast groups watched (as iroh, plus links
// going up and down).
var netlinkGroups = groupBit(syscall.RTNLGRP_LINK) | groupBit(syscall.RTNLGRP_IPV4_IFADDR) |
	groupBit(syscall.RTNLGRP_IPV6_IFADDR) | groupBit(syscall.RTNLGRP_IPV4_ROUTE) | groupBit(syscall.RTNLGRP_IPV6_ROUTE)

func groupBit(g int) uint32 { return 1 << (g - 1) }

type netlinkWatcher struct{ f *os.File }

// startWatcher subscribes to netlink; any message is a poke, as the state
// is re-read and compared anyway.
func startWatcher(poke func(), _ time.Duration) (watcher, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, syscall.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netmon: netlink socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Groups: netlinkGroups}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("netmon: netlink bind: %w", err)
	}
	// Non-blocking, so the runtime poller serves reads and Close wakes them.
	w := &netlinkWatcher{f: os.NewFile(uintptr(fd), "netlink")}
	go w.read(poke)
	return w, nil
}

func (w *netlinkWatcher) read(poke func()) {
	buf := make([]byte, 64<<10)
	for {
		_, err := w.f.Read(buf)
		switch {
		case err == nil, errors.Is(err, syscall.ENOBUFS):
			poke() // an overflow also means something changed
		default:
			return // closed
		}
	}
}

func (w *netlinkWatcher) close() error { return w.f.Close() }
