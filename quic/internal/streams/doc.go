// Package streams implements QUIC v1 streams and flow control (RFC 9000
// §2–4) as a sans-IO state machine. It is fed the contents of stream frames
// as plain values and polled for frames to send; it keeps no clocks, starts
// no goroutines and does no I/O. The connection core passes `now` where
// timing matters (receive-window auto-tuning) and the smoothed RTT via
// SetRTT.
//
// # How the core drives a Manager
//
// One Manager per connection. After the handshake the core calls
// SetPeerParams with the peer's transport parameters and advertises
// LocalParams. Then:
//
//   - Each received stream frame goes to the matching Handle* method. A
//     returned *Error carries the RFC 9000 transport error code for
//     CONNECTION_CLOSE.
//   - To fill a packet, the core calls NextControl until it reports false,
//     then NextStreamFrame, each with the bytes left in the packet. It
//     stores the returned Frame values with the packet (they hold no
//     payload) and, when the packet is acknowledged or declared lost, hands
//     each back to OnAcked or OnLost. Lost STREAM data is resent before new
//     data; lost control frames are resent only while still current.
//   - PollEvent yields what the API layer wakes up on (readable, writable,
//     opened, finished, reset, stopped, streams available).
//
// # Policies
//
//   - Window updates: MAX_STREAM_DATA / MAX_DATA are sent once the reader
//     consumed a quarter of the window since the last update. Windows
//     auto-tune (double, up to a cap) when the reader drains data faster
//     than window/(4·RTT) per epoch; the connection window is kept at least
//     1.5× the largest stream window.
//   - Connection flow control counts, per stream, the highest offset
//     received (out-of-order data included) and the final size after a
//     reset; data discarded by CancelRead or a reset is credited back.
//   - Stream credit: forgetting a peer-initiated stream raises our
//     MAX_STREAMS by one at once, like noq.
//   - *_BLOCKED frames are sent once per peer limit.
//   - Scheduling is round-robin by frame across streams with data to send.
//   - Memory: receive buffers grow in 4 KiB blocks only where data
//     arrived, never past the advertised window; at most 1024 disjoint
//     ranges per stream (more is PROTOCOL_VIOLATION). Send buffers are
//     bounded by Config.SendBuffer per stream.
//   - A stream is forgotten once both halves are terminal: all data and
//     FIN acknowledged or the RESET_STREAM acknowledged on the send side;
//     everything (or the reset) read by the application, or the read side
//     canceled and the final size known, on the receive side.
package streams
