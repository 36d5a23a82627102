// Package wire is the alkpubsub frame codec: the application protocol an
// irohspoke spoke speaks to an iroh hub on the single bidirectional QUIC
// stream of an "alkpubsub/1" connection.
//
// A frame is a 4-byte big-endian length N followed by N bytes of UTF-8 JSON.
// The JSON is an envelope object:
//
//	{"type": string, "id": string, "payload": any}
//
// A hub answers every frame with an echo ({"type": type+".echo", same id and
// payload}), forwards the original frame bytes unchanged to the other spokes,
// and answers a bad frame with {"type":"error","id":...,"payload":{"error":...}}.
//
// Decoding is strict (valid UTF-8, RFC 8259 JSON, one object with string
// "type" and "id" members, no duplicate envelope members) and is done by a
// small single-pass scanner that keeps the payload as raw JSON, so a frame is
// examined exactly once and only the type and id strings are allocated.
//
// Errors split into two groups (see IsRecoverable): content errors, where the
// whole frame was consumed and the caller may keep reading, and stream errors
// (ErrFrameTooLarge, ErrTruncated, I/O errors), after which the stream is out
// of sync and the Reader keeps returning the same error.
package wire
