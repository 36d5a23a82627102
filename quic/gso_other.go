//go:build !linux

package quic

const gsoSupported = false

func gsoControl(int) []byte { return nil }

func gsoUnsupported(error) bool { return true }
