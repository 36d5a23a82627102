// Package oneshot holds the one-shot dial benchmark: a process that starts,
// connects to a hub on loopback, gets one echo and exits, for "irohspoke
// dial" against "irohspoke hub" and for a quic-go client against a quic-go
// server (X.509, the baseline: quic-go cannot do raw public keys). Run
//
//	go test -run '^$' -bench OneShot -benchtime 20x ./interop/oneshot/
//
// Nothing leaves loopback: the hub and dial use the minimal preset. The
// binaries are measured installed (copied with plain writes); the row
// irohspoke-as-linked runs the linker's own output, whose page-cache
// pages cost about 1 ms more per process start on the 2-core VM.
package oneshot
