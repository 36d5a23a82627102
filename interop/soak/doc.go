// Package soak holds the long-running load tests of the Go hub: one hub
// and many spokes of our own stack (endpoint, quic, spoke, hub) in one
// process on loopback, with steady echo and fan-out traffic.
//
// TestSoakFanout runs a short version (100 spokes, about 12 s) in a normal
// go test; with IROHSPOKE_SOAK=1 (make soak) it runs the long one: 1000
// spokes for 10 minutes. It connects every spoke, warms up, measures heap,
// RSS, goroutines and file descriptors, drives traffic, waits until the
// Ledger shows every event echoed once to its sender and copied once, in
// order, to every other spoke, and measures again. The figures must stay
// flat within a soakstat.Growth's bounds. Every figure is logged on one line starting
// with "soak:" (key=value pairs), so runs can be compared with grep.
package soak
