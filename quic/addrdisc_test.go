package quic

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/qadtest"
)

func newQADServer(t *testing.T, hosts ...string) (*Endpoint, *qadtest.CA) {
	t.Helper()
	ca, err := qadtest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	chain, key, err := ca.Issue(hosts...)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ListenAddressDiscovery(tr, AddressDiscoveryServer{Certificate: chain, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, ca
}

func TestAddressDiscoveryLoopback(t *testing.T) {
	srv, ca := newQADServer(t, "relay.test")
	cep := newTestEndpoint(t, nil)
	to := addrOf(t, srv.LocalAddr()).UDP
	got, c, err := cep.DialAddressDiscovery(testCtx(t), to, "relay.test", ca.Roots)
	if err != nil {
		t.Fatal(err)
	}
	if want := addrOf(t, cep.LocalAddr()).UDP; got != want {
		t.Fatalf("observed %v, want our socket %v", got, want)
	}
	if ap, ok := c.ObservedAddress(); !ok || ap != got {
		t.Fatalf("ObservedAddress = %v %v", ap, ok)
	}
	if c.ALPN() != QADALPN {
		t.Fatalf("ALPN %q", c.ALPN())
	}
	// The server allows no streams.
	ctx, cancel := context.WithTimeout(testCtx(t), 100*time.Millisecond)
	defer cancel()
	if _, err := c.OpenStream(ctx); err == nil {
		t.Fatal("QAD server allowed a stream")
	}
	// No new report arrives while nothing changes.
	ctx, cancel = context.WithTimeout(testCtx(t), 200*time.Millisecond)
	defer cancel()
	if _, err := c.WaitObservedAddress(ctx, got); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitObservedAddress without a change: %v", err)
	}
	if err := c.Close(QADCloseCode, QADCloseReason); err != nil {
		t.Fatal(err)
	}
	// The same endpoint still dials ordinary peers.
	peer := newTestEndpoint(t, &Config{ALPNs: []string{testALPN}})
	go peer.Accept(testCtx(t))
	if _, err := cep.Dial(testCtx(t), addrOf(t, peer.LocalAddr()), peer.ID(), testALPN); err != nil {
		t.Fatal(err)
	}
}

func TestAddressDiscoveryRejectsBadCertificate(t *testing.T) {
	srv, _ := newQADServer(t, "relay.test")
	other, err := qadtest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cep := newTestEndpoint(t, nil)
	to := addrOf(t, srv.LocalAddr()).UDP
	_, _, err = cep.DialAddressDiscovery(testCtx(t), to, "relay.test", other.Roots)
	var te *TransportError
	if !errors.As(err, &te) || te.Code != 0x100+48 {
		t.Fatalf("untrusted CA: %v", err)
	}
}

func TestAddressDiscoveryNotOffered(t *testing.T) {
	// An ordinary endpoint refuses the QAD ALPN; nothing answers.
	plain := newTestEndpoint(t, &Config{ALPNs: []string{testALPN}, HandshakeTimeout: 300 * time.Millisecond})
	cep := newTestEndpoint(t, &Config{HandshakeTimeout: 500 * time.Millisecond})
	_, _, err := cep.DialAddressDiscovery(testCtx(t), addrOf(t, plain.LocalAddr()).UDP, "relay.test", nil)
	if err == nil {
		t.Fatal("QAD against a non-QAD endpoint succeeded")
	}
	_ = netip.AddrPort{}
}
