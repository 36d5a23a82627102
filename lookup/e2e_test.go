package lookup_test

import (
	"context"
	"crypto/rand"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/internal/lookuptest"
	"github.com/alkdev/irohspoke/lookup"
	"github.com/alkdev/irohspoke/relay"
	"github.com/alkdev/irohspoke/spoke"
	"github.com/alkdev/irohspoke/wire"
)

// TestDialByEndpointID: a hub online at our relay publishes to our lookup
// server; a spoke that knows only the hub's EndpointId (and the lookup
// service) dials it and gets an echo.
func TestDialByEndpointID(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	rl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := relay.NewServer(relay.ServerConfig{})
	go rs.Serve(rl)
	defer rs.Close()
	relayURL := "http://" + rl.Addr().String()

	ls := lookup.NewServer(lookup.ServerOptions{Origin: "dns.test.", PutBurst: -1})
	hs := httptest.NewServer(ls.Handler())
	defer hs.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go ls.ServeDNS(pc)
	pkarrURL := hs.URL + "/pkarr"
	dnsResolver := &lookup.DNSResolver{Server: pc.LocalAddr().(*net.UDPAddr).AddrPort(), Origin: "dns.test."}

	for _, tc := range []struct {
		name         string
		publishAddrs bool
		resolver     lookup.Resolver
		wantPath     spoke.PathKind
	}{
		{"pkarr relay-only", false, &lookup.PkarrResolver{BaseURL: pkarrURL}, spoke.PathRelay},
		{"dns with addrs", true, dnsResolver, spoke.PathDirect},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := identity.GenerateSecretKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			onPublish, published := lookuptest.OnPublished()
			hubEP, err := endpoint.Bind(ctx, endpoint.Options{
				SecretKey: key, BindAddr: "127.0.0.1:0", RelayURL: relayURL, ALPNs: []string{hub.ALPN},
				Publisher:    &lookup.PkarrPublisher{BaseURL: pkarrURL, Key: key, OnPublish: onPublish},
				PublishAddrs: tc.publishAddrs,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer hubEP.Close()
			if err := hubEP.WaitRelay(ctx); err != nil {
				t.Fatal(err)
			}
			h := hub.New(hub.Options{})
			go h.Serve(ctx, hubEP)
			defer h.Close()
			lookuptest.WaitPublished(t, ctx, published, ls, key.Public())

			spokeEP, err := endpoint.Bind(ctx, endpoint.Options{BindAddr: "127.0.0.1:0", Lookup: tc.resolver})
			if err != nil {
				t.Fatal(err)
			}
			defer spokeEP.Close()
			tg, err := spoke.Dial(ctx, spokeEP, identity.EndpointAddr{ID: key.Public()})
			if err != nil {
				t.Fatal(err)
			}
			defer tg.Close()
			echoed := make(chan wire.Envelope, 1)
			tg.AddListener("ping.echo", func(e wire.Envelope) { echoed <- e })
			if err := tg.Dispatch(ctx, wire.Envelope{Type: "ping", ID: "1", Payload: []byte(`{"n":1}`)}); err != nil {
				t.Fatal(err)
			}
			select {
			case e := <-echoed:
				if e.ID != "1" {
					t.Fatalf("echo %+v", e)
				}
			case <-ctx.Done():
				t.Fatal("no echo")
			}
			wantRelay := tc.wantPath == spoke.PathRelay
			if won := spokeEP.Metrics().DialsRelayWon.Load() > 0; won != wantRelay {
				t.Fatalf("relay won = %v, want %v", won, wantRelay)
			}
		})
	}
}
