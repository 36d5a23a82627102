package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"time"
)

// probeIdle opens n idle keep-alive connections (one GET /ping each, then
// silence) and n requests whose body never arrives, waits, and counts
// how many the relay still keeps open.
func probeIdle(n int, wait time.Duration) error {
	r, err := startRelay()
	if err != nil {
		return err
	}
	defer r.stop()
	// Idle and slow connections come from different addresses, so that a
	// per-address cap does not hide either.
	idleFrom := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	slowFrom := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 3)}}
	var idle, slow []net.Conn
	for range n {
		nc, err := idleFrom.Dial("tcp", r.Addr)
		if err != nil {
			return err
		}
		defer nc.Close()
		fmt.Fprintf(nc, "GET /ping HTTP/1.1\r\nHost: relay\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		idle = append(idle, nc)
	}
	for range n {
		nc, err := slowFrom.Dial("tcp", r.Addr)
		if err != nil {
			return err
		}
		defer nc.Close()
		fmt.Fprintf(nc, "POST /ping HTTP/1.1\r\nHost: relay\r\nContent-Length: 100000\r\n\r\nten bytes.")
		slow = append(slow, nc)
	}
	fmt.Printf("idle: open at start: %d of %d idle, %d of %d slow-body; relay fds %d; waiting %v\n",
		countOpen(idle), n, countOpen(slow), n, r.fds(), wait)
	time.Sleep(wait)
	fmt.Printf("idle: after %v still open: %d idle, %d slow-body; relay fds %d\n",
		wait, countOpen(idle), countOpen(slow), r.fds())
	return nil
}

// countOpen counts connections the peer has not closed (reads time out
// instead of failing). Pending response bytes are drained first.
func countOpen(conns []net.Conn) int {
	open := 0
	buf := make([]byte, 4096)
	for _, nc := range conns {
		for {
			_ = nc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			_, err := nc.Read(buf)
			if err == nil {
				continue
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				open++
			}
			break
		}
	}
	return open
}
