package lookup

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/relay"
)

// fakeRelay serves whatever body is set, for any key.
type fakeRelay struct {
	body atomic.Pointer[[]byte]
	srv  *httptest.Server
}

func newFakeRelay(t *testing.T) *fakeRelay {
	f := &fakeRelay{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write(*f.body.Load())
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRelay) serve(b []byte) { f.body.Store(&b) }

// TestPkarrResolverRefusesHostileAnswers: oversize, unsigned, another
// key's, rolled back and future packets are refused, each with its own
// sentinel error.
func TestPkarrResolverRefusesHostileAnswers(t *testing.T) {
	relay := newFakeRelay(t)
	key, other := newKey(t), newKey(t)
	now := time.Unix(1.7e9, 0)
	r := &PkarrResolver{BaseURL: relay.srv.URL, Now: func() time.Time { return now }}
	sign := func(k identity.SecretKey, at time.Time, relayURL string) []byte {
		p, err := SignEndpointInfo(k, EndpointInfo{EndpointAddr: identity.EndpointAddr{Relays: []string{relayURL}}}, uint64(at.UnixMicro()), DefaultTTL)
		if err != nil {
			t.Fatal(err)
		}
		return p.RelayPayload()
	}
	resolve := func(body []byte) (EndpointInfo, error) {
		relay.serve(body)
		return r.Resolve(ctxT(t), key.Public())
	}
	if info, err := resolve(sign(key, now, "https://new.example/")); err != nil || info.Relays[0] != "https://new.example/" {
		t.Fatalf("fresh packet: %+v %v", info, err)
	}
	good := sign(key, now, "https://new.example/")
	for _, c := range []struct {
		name string
		body []byte
		want error
	}{
		{"oversize", append(good, make([]byte, MaxSignedPacketLen)...), ErrMessageTooLarge},
		{"unsigned (zero signature)", append(make([]byte, 64), good[64:]...), ErrBadSignature},
		{"shorter than a header", good[:50], ErrMalformedPacket},
		{"another key's", sign(other, now, "https://evil.example/"), ErrBadSignature},
		{"an hour older", sign(key, now.Add(-time.Hour), "https://old.example/"), ErrStalePacket},
		{"a year ahead", sign(key, now.AddDate(1, 0, 0), "https://future.example/"), ErrFuturePacket},
	} {
		if info, err := resolve(c.body); !errors.Is(err, c.want) {
			t.Errorf("%s: %+v, %v; want %v", c.name, info.Relays, err, c.want)
		}
	}
	// Small clock differences are fine, and newer packets move the mark.
	if _, err := resolve(sign(key, now.Add(5*time.Minute), "https://newer.example/")); err != nil {
		t.Fatalf("5 minutes ahead: %v", err)
	}
	if _, err := resolve(good); !errors.Is(err, ErrStalePacket) {
		t.Fatalf("the first packet after a newer one: %v", err)
	}
}

// TestNewHTTPClientTrust: the default client uses the relay client's
// roots and the environment's proxy; a given pool replaces the roots.
func TestNewHTTPClientTrust(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer ts.Close()
	if _, err := DefaultHTTPClient().Get(ts.URL); err == nil {
		t.Fatal("default client trusted a test certificate")
	}
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	resp, err := NewHTTPClient(pool).Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tr := DefaultHTTPClient().Transport.(*http.Transport)
	if reflect.ValueOf(tr.Proxy).Pointer() != reflect.ValueOf(http.ProxyFromEnvironment).Pointer() {
		t.Fatal("default transport ignores HTTPS_PROXY")
	}
	if tr.TLSClientConfig.RootCAs == nil || !tr.TLSClientConfig.RootCAs.Equal(relay.DefaultRoots()) {
		t.Fatal("default transport does not use the relay client's roots")
	}
	if tr.TLSClientConfig.MinVersion < tls.VersionTLS12 {
		t.Fatal("old TLS allowed")
	}
}
