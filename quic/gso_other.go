//go:build !linux

package quic

import "net"

const gsoSupported = false

func gsoControl(int) []byte { return nil }

func gsoUnsupported(error) bool { return true }

func setDontFragment(*net.UDPConn) {}
