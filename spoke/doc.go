// Package spoke is an alkpubsub event target: a client ("spoke") that keeps
// one connection to a hub, sends events on one bidirectional QUIC stream,
// hands every frame the hub sends to listeners, and reconnects on its own.
//
//	t, err := spoke.DialVia(ctx, spoke.NewQUICDialer(ep), hub)
//	remove := t.AddListener("chat.echo", func(e wire.Envelope) { ... })
//	err = t.Dispatch(ctx, wire.Envelope{Type: "chat", ID: "1", Payload: raw})
//	...
//	t.Close()
//
// # Delivery
//
// Dispatch puts the event in a bounded send queue and returns. From then on
// every event ends in exactly one of these states:
//
//  1. Delivered: the hub's QUIC stack acknowledged all of the event's bytes
//     (or the hub's echo of it arrived, which means the hub processed it).
//     It leaves the queue and is never sent again.
//  2. Sent again: the connection or stream died before the event was
//     acknowledged. It is written again, in the original order, at the start
//     of the next stream, and then ends in state 1 or 3.
//  3. Failed: it is reported to the failure callback (WithOnFailed) and in an
//     EventFailed status event, and never sent again. That happens when the
//     send timeout (WithSendTimeout) passes while the event waits for a
//     stream, when Close gives up waiting (ErrClosed), or when the connection
//     is lost with reconnection disabled (ErrDisconnected). A failed event
//     was not confirmed; it may still have reached the hub if it was in
//     flight when its connection died.
//
// An event that does not fit in the queue is not accepted: Dispatch waits for
// room until its context ends and then returns ErrQueueFull.
//
// Acknowledged events are never duplicated. An event that the hub received
// but did not acknowledge before the connection died (its ACK was lost, or
// the hub was killed) is sent again and may reach the hub twice; the hub's
// echo narrows this window, since echoed events are not sent again.
//
// Acknowledgement is tracked by offset: each frame written on the current
// stream remembers where it ends, and the stream reports how many bytes the
// peer acknowledged without a gap (Stream.AckedBytes). The connection is
// closed before that count is read for the last time, so it cannot grow
// after frames have been chosen for sending again.
//
// # Reconnection
//
// When the connection or its stream dies the target reports
// EventDisconnected (with the hub's close code and reason in a *CloseError
// when it closed the connection), waits a backoff delay (exponential with
// jitter, WithBackoff; 100 ms doubling up to 2 s by default), and dials
// again, each attempt bounded by WithAttemptTimeout (5 s). Listeners stay
// attached. A hub that disappears without closing (killed, or the network
// gone) is noticed when the QUIC idle timeout expires: 30 s with iroh's
// defaults, which the Dialer's endpoint configures (keep-alives every 5 s
// keep a healthy idle connection open).
//
// # Receiving
//
// A QUIC peer learns of a stream only from a frame on it, so the spoke
// announces its stream with an empty STREAM frame as soon as it is open:
// the hub (iroh's acceptBi as well as ours) sees it at once, and a spoke
// that only listens receives fan-out without dispatching anything.
//
// Frames from the hub are parsed with the wire codec (frames up to
// wire.DefaultMaxFrameSize, WithMaxFrameSize). A malformed frame is reported
// as EventMalformed and reading goes on; a frame stream that cannot be split
// any more (an oversize length prefix, a truncated frame) is reported too,
// and the connection is closed with CloseProtocol and dialled again.
package spoke
