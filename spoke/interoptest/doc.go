// Package interoptest holds the spoke and hub tests and benchmarks that run
// real iroh 1.0 (through the interop package) in a loopback-only network
// namespace. It has no code of its own.
package interoptest
