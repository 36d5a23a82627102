package quic

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// qlogWriter writes a minimal qlog trace (draft-ietf-quic-qlog, JSON-SEQ)
// of one connection: datagrams sent and received, with the type and
// length of their first packet, and the close. qvis renders it.
type qlogWriter struct {
	mu    sync.Mutex
	f     *os.File
	w     *bufio.Writer
	start time.Time
}

type qlogEvent struct {
	Time float64 `json:"time"` // milliseconds since the trace started
	Name string  `json:"name"`
	Data any     `json:"data"`
}

func newQlog(dir string, cc *core.Conn, log *slog.Logger) *qlogWriter {
	var id [8]byte
	_, _ = rand.Read(id[:])
	side := "client"
	if cc.Side() == core.Server {
		side = "server"
	}
	name := filepath.Join(dir, fmt.Sprintf("%s_%s_%s.sqlog", time.Now().UTC().Format("20060102T150405"), side, hex.EncodeToString(id[:])))
	f, err := os.Create(name)
	if err != nil {
		log.Warn("qlog disabled", "err", err)
		return nil
	}
	q := &qlogWriter{f: f, w: bufio.NewWriter(f), start: time.Now()}
	q.record(map[string]any{
		"qlog_version": "0.3",
		"qlog_format":  "JSON-SEQ",
		"title":        "irohspoke " + side,
		"trace": map[string]any{
			"vantage_point": map[string]string{"type": side},
			"common_fields": map[string]any{
				"time_format":    "relative",
				"reference_time": float64(q.start.UnixNano()) / 1e6,
			},
		},
	})
	return q
}

// record writes one JSON-SEQ record: RS, JSON text, LF (RFC 7464).
func (q *qlogWriter) record(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	q.w.WriteByte(0x1e)
	q.w.Write(b)
	q.w.WriteByte('\n')
}

func (q *qlogWriter) event(now time.Time, name string, data any) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.w == nil {
		return
	}
	q.record(qlogEvent{Time: float64(now.Sub(q.start).Microseconds()) / 1000, Name: name, Data: data})
}

var qlogPacketTypes = map[wire.PacketType]string{
	wire.PacketInitial:            "initial",
	wire.PacketHandshake:          "handshake",
	wire.Packet0RTT:               "0RTT",
	wire.Packet1RTT:               "1RTT",
	wire.PacketRetry:              "retry",
	wire.PacketVersionNegotiation: "version_negotiation",
}

// datagram logs a datagram by its first packet (headers are still
// protected, so packet numbers are not known here).
func (q *qlogWriter) datagram(now time.Time, name string, b []byte) {
	h, err := wire.ParseHeader(b, core.LocalCIDLen)
	typ := "unknown"
	if err == nil {
		typ = qlogPacketTypes[h.Type]
	}
	q.event(now, name, map[string]any{
		"header": map[string]any{"packet_type": typ, "dcid": hex.EncodeToString(h.DCID)},
		"raw":    map[string]int{"length": len(b)},
	})
}

func (q *qlogWriter) closed(now time.Time, err error) {
	q.event(now, "transport:connection_closed", map[string]string{"reason": err.Error()})
}

func (q *qlogWriter) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.w == nil {
		return
	}
	q.w.Flush()
	q.f.Close()
	q.w = nil
}
