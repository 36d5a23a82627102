// Package chaos is the chaos suite: spokes send numbered events through a
// hub (real iroh, and our Go hub) in the NAT lab (interop/natlab) while
// one fault at a time strikes:
//
//   - relay-restart: the relay is killed (SIGKILL) and started again; the
//     hub sits behind a NAT and the spokes know only its relay, so every
//     packet goes through it;
//   - conntrack-flush: the spokes' NAT routers forget every mapping (a
//     ctnetlink flush, as conntrack -F); the random-port NAT then gives
//     the spoke a new public port;
//   - udp-loss: nftables drops 10 % of the UDP datagrams arriving at the
//     hub and the spokes (input hook; the kernel has no netem);
//   - hub-kill: the hub is killed and started again with the same key on
//     the same address;
//   - spoke-stop: a spoke process is frozen (SIGSTOP) and let go on
//     (SIGCONT) while the other keeps sending.
//
// Spokes are "irohspoke dial" and RunSpoke (our spoke library in this
// test binary, with a 3 s QUIC idle timeout so a dead hub is noticed
// quickly). The Journal checks spoke/doc.go's promise: every event is
// echoed exactly once, except one a killed hub acknowledged but never
// echoed (delivered, by QUIC acknowledgement); nothing is given up; copies
// to the other spoke come in order, complete and unrepeated when no spoke
// lost its connection (after a lost connection, unacknowledged events are
// sent again and may reach the hub twice). For every episode it measures the recovery time: from the
// fault's end to the next echo each spoke hit receives.
//
// TestChaos runs every fault once, briefly, against both hubs in parallel
// (about 20 s plus building irohspoke); with IROHSPOKE_SOAK=1 (make soak)
// it repeats them and stops each spoke for 20 s. Results are logged as
// "chaos: summary hub=… fault=… worst_recovery_ms=…" lines.
package chaos
