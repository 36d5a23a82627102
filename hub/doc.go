// Package hub is an alkpubsub hub: it accepts "alkpubsub/1" connections from
// spokes (Go or iroh), reads frames from the one bidirectional stream each
// spoke opens, and routes them. The default router does what the iroh
// interop hub does: it echoes every envelope back to its sender as
// {type+".echo", id, payload} and forwards the original frame bytes
// unchanged to every other connected spoke. Applications plug in their own
// routing with Options.Router.
//
// A malformed frame is answered with {"type":"error","id":...,
// "payload":{"error":...}} and the stream goes on. A frame stream that cannot
// be followed (a length prefix over the frame limit, a truncated frame)
// closes that spoke's connection only, with CloseFrameTooLarge or
// CloseProtocol.
//
// # Slow spokes
//
// Every spoke has its own bounded send queue (Options.QueueFrames and
// QueueBytes) drained by its own writer, so a slow spoke never stalls the
// reader of another. When a frame does not fit in a spoke's queue, that spoke
// is disconnected with CloseSlowConsumer ("send queue overflow"): frames are
// never dropped silently from a connection that stays open, and the spoke
// (which reconnects on its own) learns why it was dropped. Answers to the
// sender itself (the echo, Spoke.Reply) wait for room instead: that stops
// reading from the sender, so a spoke that sends faster than it reads is
// slowed down by QUIC flow control rather than disconnected.
//
// # Shutdown
//
// Close stops accepting and closes every connection with CloseOK and the
// reason "hub shutting down", as the iroh hub does on SIGTERM.
package hub
