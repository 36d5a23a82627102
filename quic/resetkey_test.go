package quic

import (
	"bytes"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// TestRestartedEndpointResetsOldConnections: a server that crashed (its
// socket gone, no CONNECTION_CLOSE sent) and came back with the same key
// on the same port answers the client's next packet with a stateless
// reset the client accepts, so the client learns at once that its
// connection is gone rather than at its idle timeout.
func TestRestartedEndpointResetsOldConnections(t *testing.T) {
	key, err := identity.GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _, _, sep := pair(t, nil, &Config{SecretKey: key, IdleTimeout: time.Minute})
	addr := sep.LocalAddr().String()
	sep.tr.Close() // the crash: nothing more leaves the old endpoint
	tr, err := ListenUDP(addr)
	if err != nil {
		t.Fatal(err)
	}
	again, err := NewEndpoint(tr, &Config{SecretKey: key, ALPNs: []string{testALPN}})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	requireResetOnNextPacket(t, c)
}

func TestResetKeyFollowsTheIdentity(t *testing.T) {
	a, _ := identity.GenerateSecretKey(nil)
	b, _ := identity.GenerateSecretKey(nil)
	if resetKeyFor(a) != resetKeyFor(a) || resetKeyFor(a) == resetKeyFor(b) {
		t.Fatal("reset key not a function of the secret key")
	}
	seed := a.Bytes()
	if rk := resetKeyFor(a); bytes.Equal(rk[:], seed[:]) {
		t.Fatal("reset key is the seed")
	}
}
