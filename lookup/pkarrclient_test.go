package lookup

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
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
// Roots are read at the first TLS handshake (at once when an HTTPS proxy
// does the TLS), and the certificate must name the host dialed.
func TestNewHTTPClientTrust(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer ts.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer plain.Close()
	if _, err := DefaultHTTPClient().Get(ts.URL); err == nil {
		t.Fatal("default client trusted a test certificate")
	}
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	get := func(c *http.Client, url string) error {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(NewHTTPClient(pool), ts.URL); err != nil {
		t.Fatal(err)
	}

	loads := 0
	counting := func() *x509.CertPool { loads++; return pool }
	c := newHTTPClient(counting, false)
	if err := get(c, plain.URL); err != nil || loads != 0 {
		t.Fatalf("plain HTTP: err %v, roots read %d times", err, loads)
	}
	if err := get(c, ts.URL); err != nil || loads != 1 {
		t.Fatalf("first HTTPS request: err %v, roots read %d times", err, loads)
	}
	// The test certificate names example.com, 127.0.0.1 and ::1 only.
	wrongName := strings.Replace(ts.URL, "127.0.0.1", "localhost", 1)
	var hostErr x509.HostnameError
	if err := get(newHTTPClient(counting, false), wrongName); !errors.As(err, &hostErr) {
		t.Fatalf("a certificate for another name: %v", err)
	}
	if newHTTPClient(counting, true).Transport.(*http.Transport).TLSClientConfig.RootCAs != pool {
		t.Fatal("behind an HTTPS proxy the transport's TLS has no roots")
	}

	old := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	old.TLS = &tls.Config{MaxVersion: tls.VersionTLS11}
	old.StartTLS()
	defer old.Close()
	oldPool := x509.NewCertPool()
	oldPool.AddCert(old.Certificate())
	if err := get(NewHTTPClient(oldPool), old.URL); err == nil {
		t.Fatal("TLS 1.1 accepted")
	}

	tr := DefaultHTTPClient().Transport.(*http.Transport)
	if reflect.ValueOf(tr.Proxy).Pointer() != reflect.ValueOf(http.ProxyFromEnvironment).Pointer() {
		t.Fatal("default transport ignores HTTPS_PROXY")
	}
}
