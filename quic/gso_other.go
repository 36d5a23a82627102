//go:build !linux

package quic

import "net"

const gsoSupported = false

func gsoControl(int) []byte { return nil }

func gsoUnsupported(error) bool { return true }

func setDontFragment(*net.UDPConn) {}

const groReadBuf = 0

var groControlLen = 0

func enableGRO(*net.UDPConn) bool { return false }

func groSegmentSize([]byte) int { return 0 }
