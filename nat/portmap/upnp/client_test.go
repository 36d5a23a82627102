package upnp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/nat/portmap/internal/fakegw"
	"github.com/alkdev/irohspoke/nat/portmap/upnp"
)

func ctx(t *testing.T) context.Context { return timeout(t, time.Second) }

// short is for cases that end by timing out.
func short(t *testing.T) context.Context { return timeout(t, 300*time.Millisecond) }

func timeout(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

var locationRe = regexp.MustCompile(`LOCATION: [^\r]*\r\n`)

func udp(t *testing.T) *net.UDPConn {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// foreign is an HTTP server on another loopback address that counts every
// request: the client must never reach it.
func foreign(t *testing.T) (base string, hits *atomic.Int32) {
	hits = new(atomic.Int32)
	ln, err := net.Listen("tcp4", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, fakegw.Description(upnp.WANIPConnection2, "/ctl"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String(), hits
}

func TestDiscoverAndMap(t *testing.T) {
	for _, v1 := range []bool{false, true} {
		gw := fakegw.New(t, fakegw.Config{UPnP: true, IGDv1: v1})
		g, err := upnp.Discover(ctx(t), udp(t), gw.Addr, []netip.AddrPort{gw.SSDP})
		if err != nil {
			t.Fatalf("v1=%v: %v", v1, err)
		}
		if g.IGDv2() == v1 || g.ControlURL.String() != gw.URL("/ctl/IPConn") {
			t.Fatalf("v1=%v: gateway %+v", v1, g)
		}
		ext, err := g.ExternalIP(ctx(t))
		if err != nil || ext != netip.MustParseAddr("5.5.5.1") {
			t.Fatalf("external %v %v", ext, err)
		}
		m := upnp.Mapping{Protocol: "UDP", ExternalPort: 40000, InternalPort: 40000, InternalClient: gw.Addr, Description: "t", LeaseSeconds: 60}
		if v1 {
			if err := g.AddPortMapping(ctx(t), m); err != nil {
				t.Fatal(err)
			}
			_, err := g.AddAnyPortMapping(ctx(t), m)
			var se *upnp.SOAPError
			if !errors.As(err, &se) || se.Code != upnp.ErrCodeInvalidAction {
				t.Fatalf("AddAnyPortMapping on IGDv1: %v", err)
			}
		} else if port, err := g.AddAnyPortMapping(ctx(t), m); err != nil || port != 40000 {
			t.Fatalf("AddAnyPortMapping: %d %v", port, err)
		}
		if l := gw.Leases()[fakegw.Key{Proto: "UDP", ExternalPort: 40000}]; l.InternalPort != 40000 || l.Lifetime != 60 {
			t.Fatalf("lease %+v", l)
		}
		if err := g.DeletePortMapping(ctx(t), "UDP", 40000); err != nil || len(gw.Leases()) != 0 {
			t.Fatalf("delete: %v, leases %v", err, gw.Leases())
		}
		var se *upnp.SOAPError
		if err := g.DeletePortMapping(ctx(t), "UDP", 40000); !errors.As(err, &se) || se.Code != 714 {
			t.Fatalf("second delete: %v", err)
		}
	}
}

func TestSearchIgnoresStrangers(t *testing.T) {
	gw := fakegw.New(t, fakegw.Config{UPnP: true})
	// The answer comes from 127.0.0.1, but the gateway is 127.0.0.3.
	_, err := upnp.Search(short(t), udp(t), netip.MustParseAddr("127.0.0.3"), []netip.AddrPort{gw.SSDP})
	if !errors.Is(err, upnp.ErrNoResponse) || !strings.Contains(err.Error(), "ignored an answer from 127.0.0.1") {
		t.Fatalf("answer from another address: %v", err)
	}
	base, hits := foreign(t)
	for name, loc := range map[string]string{
		"other host": base + "/rootDesc.xml",
		"host name":  fmt.Sprintf("http://localhost:%d/rootDesc.xml", gw.HTTPPort),
		"user info":  fmt.Sprintf("http://u:p@127.0.0.1:%d/", gw.HTTPPort),
	} {
		liar := fakegw.New(t, fakegw.Config{UPnP: true, SSDPReply: func(honest []byte) []byte {
			return locationRe.ReplaceAll(honest, []byte("LOCATION: "+loc+"\r\n"))
		}})
		_, err := upnp.Discover(short(t), udp(t), liar.Addr, []netip.AddrPort{liar.SSDP})
		if !errors.Is(err, upnp.ErrNoResponse) || !errors.Is(err, upnp.ErrForeignURL) && !strings.Contains(err.Error(), "not on the gateway") {
			t.Errorf("%s: %v", name, err)
		}
	}
	garbage := fakegw.New(t, fakegw.Config{UPnP: true, SSDPReply: func([]byte) []byte { return make([]byte, 3000) }})
	if _, err := upnp.Search(short(t), udp(t), garbage.Addr, []netip.AddrPort{garbage.SSDP}); !errors.Is(err, upnp.ErrNoResponse) {
		t.Errorf("oversize answer: %v", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("the foreign host got %d requests", hits.Load())
	}
}

func TestDescriptionURLsStayOnGateway(t *testing.T) {
	base, hits := foreign(t)
	redirect := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, base+"/rootDesc.xml", http.StatusFound)
	}
	cases := map[string]http.HandlerFunc{
		"absolute control URL": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, fakegw.Description(upnp.WANIPConnection2, base+"/ctl"))
		},
		"URLBase elsewhere": func(w http.ResponseWriter, _ *http.Request) {
			d := fakegw.Description(upnp.WANIPConnection2, "ctl")
			_, _ = io.WriteString(w, strings.Replace(d, "<device>", "<URLBase>"+base+"/</URLBase><device>", 1))
		},
		"scheme-relative control URL": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, fakegw.Description(upnp.WANIPConnection2, strings.TrimPrefix(base, "http:")+"/ctl"))
		},
		"redirect": redirect,
	}
	for name, h := range cases {
		gw := fakegw.New(t, fakegw.Config{UPnP: true, Description: h})
		loc, _ := url.Parse(gw.URL("/rootDesc.xml"))
		if _, err := upnp.FetchGateway(ctx(t), gw.Addr, loc); !errors.Is(err, upnp.ErrForeignURL) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the foreign host got %d requests", hits.Load())
	}
}

func TestHostileHTTPAnswers(t *testing.T) {
	huge := func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("<!-- -->", upnp.MaxDescription))
	}
	gw := fakegw.New(t, fakegw.Config{UPnP: true, Description: huge})
	loc, _ := url.Parse(gw.URL("/rootDesc.xml"))
	if _, err := upnp.FetchGateway(ctx(t), gw.Addr, loc); !errors.Is(err, upnp.ErrTooLarge) {
		t.Errorf("oversize description: %v", err)
	}
	soap := map[string]http.HandlerFunc{
		"garbage": func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "\x00garbage") },
		"not an IP": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, soapResponse("<NewExternalIPAddress>gw.example</NewExternalIPAddress>"))
		},
		"html error": func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "<html>no</html>", http.StatusNotFound) },
		"fault":      func(w http.ResponseWriter, _ *http.Request) { fakegw.WriteFault(w, 501, "ActionFailed") },
		"oversize": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, soapResponse(strings.Repeat(" ", upnp.MaxSOAPResponse)))
		},
		"stalls": func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
	}
	for name, h := range soap {
		gw := fakegw.New(t, fakegw.Config{UPnP: true, SOAP: h})
		g, err := upnp.Discover(ctx(t), udp(t), gw.Addr, []netip.AddrPort{gw.SSDP})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.ExternalIP(short(t)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func soapResponse(inner string) string {
	return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetExternalIPAddressResponse>` +
		inner + `</u:GetExternalIPAddressResponse></s:Body></s:Envelope>`
}
