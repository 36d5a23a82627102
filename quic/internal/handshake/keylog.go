package handshake

import (
	"encoding/hex"
)

// NSS key log labels (https://firefox-source-docs.mozilla.org/security/nss/legacy/key_log_format/).
const (
	keyLogClientHandshake = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	keyLogServerHandshake = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	keyLogClientTraffic   = "CLIENT_TRAFFIC_SECRET_0"
	keyLogServerTraffic   = "SERVER_TRAFFIC_SECRET_0"
	keyLogExporter        = "EXPORTER_SECRET"
)

// logKey writes one NSS key log line. Write errors are ignored: key
// logging is a debugging aid and must not break handshakes.
func (c *Conn) logKey(label string, secret []byte) {
	w := c.cfg.KeyLogWriter
	if w == nil {
		return
	}
	line := make([]byte, 0, len(label)+2+64+2*len(secret)+1)
	line = append(line, label...)
	line = append(line, ' ')
	line = hex.AppendEncode(line, c.clientRandom)
	line = append(line, ' ')
	line = hex.AppendEncode(line, secret)
	line = append(line, '\n')
	_, _ = w.Write(line)
}
