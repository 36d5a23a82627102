package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/quic/qadtest"
)

func TestQADServesObservedAddress(t *testing.T) {
	ca, err := qadtest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.TLSCertificate("relay.test")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(ServerConfig{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, QADAddr: "127.0.0.1:0"})
	addr, err := s.ListenQAD()
	if err != nil {
		t.Fatal(err)
	}
	qadAP := netip.MustParseAddrPort(addr.String())

	tr, err := quic.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ep, err := quic.NewEndpoint(tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, c, err := ep.DialAddressDiscovery(ctx, qadAP, "relay.test", ca.Roots)
	if err != nil {
		t.Fatal(err)
	}
	if want := netip.MustParseAddrPort(ep.LocalAddr().String()); got != want {
		t.Fatalf("observed %v, want %v", got, want)
	}
	c.Close(quic.QADCloseCode, quic.QADCloseReason)

	s.Close()
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if _, _, err := ep.DialAddressDiscovery(short, qadAP, "relay.test", ca.Roots); err == nil {
		t.Fatal("QAD still served after Close")
	}
	if _, err := s.ListenQAD(); err == nil {
		t.Fatal("ListenQAD after Close")
	}
}

func TestQADConfigErrors(t *testing.T) {
	if _, err := NewServer(ServerConfig{}).ListenQAD(); !errors.Is(err, ErrQADDisabled) {
		t.Errorf("no QADAddr: %v", err)
	}
	if _, err := NewServer(ServerConfig{QADAddr: "127.0.0.1:0"}).ListenQAD(); !errors.Is(err, ErrQADNeedsTLS) {
		t.Errorf("no TLS: %v", err)
	}
	if got := qadAddr("127.0.0.1"); got != "127.0.0.1:7842" {
		t.Errorf("default port: %s", got)
	}
	if got := qadAddr("[::1]"); got != "[::1]:7842" {
		t.Errorf("bare IPv6 host: %s", got)
	}
	if got := qadAddr("[::1]:9"); got != "[::1]:9" {
		t.Errorf("explicit port: %s", got)
	}
}
