package quic

import (
	"crypto/hmac"
	"crypto/sha256"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic/internal/core"
)

// resetKeyFor derives the stateless reset key from the endpoint's secret
// key, one way. An endpoint restarted with the same identity (a hub after
// a crash) then answers packets of its old connections with resets the
// peers recognise, and they reconnect within a round trip instead of
// waiting out their idle timeout. The tokens reveal nothing of the secret:
// each is an HMAC under this key, itself an HMAC of the seed.
func resetKeyFor(k identity.SecretKey) core.ResetKey {
	seed := k.Bytes()
	m := hmac.New(sha256.New, seed[:])
	m.Write([]byte("irohspoke quic stateless reset key v1"))
	var rk core.ResetKey
	copy(rk[:], m.Sum(nil))
	return rk
}
