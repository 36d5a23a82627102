package quic

import (
	"errors"
	"testing"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// TestAcceptQueueFullRefuses: with acceptQueueLen handshaken connections
// waiting for an application that does not Accept, a new Dial is refused
// with CONNECTION_REFUSED before any handshake (the server starts no
// connection for it); one Accept makes room again.
func TestAcceptQueueFullRefuses(t *testing.T) {
	sep := newTestEndpoint(t, &Config{ALPNs: []string{testALPN}})
	cep := newTestEndpoint(t, nil)
	ctx := testCtx(t)
	to := addrOf(t, sep.LocalAddr())
	for i := range acceptQueueLen {
		if _, err := cep.Dial(ctx, to, sep.ID(), testALPN); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	// A client is done a flight before the server: wait until every
	// server side finished its handshake and so joined the queue.
	waitFor(t, func() bool {
		sep.mu.Lock()
		defer sep.mu.Unlock()
		return sep.ep.Pending() == 0
	})
	_, err := cep.Dial(ctx, to, sep.ID(), testALPN)
	var te *TransportError
	if !errors.As(err, &te) || !te.Remote || te.Code != uint64(wire.ConnectionRefused) {
		t.Fatalf("dial past a full accept queue: %v", err)
	}
	if n := serverConns(sep); n != acceptQueueLen {
		t.Fatalf("server holds %d connections, want %d", n, acceptQueueLen)
	}
	if _, err := sep.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := cep.Dial(ctx, to, sep.ID(), testALPN); err != nil {
		t.Fatalf("after an Accept: %v", err)
	}
}
