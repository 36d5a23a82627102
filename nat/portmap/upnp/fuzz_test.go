package upnp

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzParseSearchResponse: any datagram parses or is refused; an accepted
// one has an absolute http LOCATION.
func FuzzParseSearchResponse(f *testing.F) {
	f.Add([]byte(searchOK))
	f.Add([]byte(strings.Replace(searchOK, "LOCATION", "X", 1)))
	f.Add([]byte("HTTP/1.1 200 OK\r\nLOCATION: http://a\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 200\r\n\r\n"))
	f.Add(SearchRequest(IGDv1, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseSearchResponse(b)
		if err != nil {
			return
		}
		if r.Location == nil || r.Location.Scheme != "http" || r.Location.Host == "" {
			t.Fatalf("accepted location %v", r.Location)
		}
		// The gateway check never panics on what the parser accepted.
		_ = newGatewayHTTP(netip.MustParseAddr("10.0.0.1")).checkURL(r.Location)
	})
}

// FuzzParseDescription: any document parses or is refused; an accepted one
// has a preferred WAN service with a control URL.
func FuzzParseDescription(f *testing.F) {
	f.Add([]byte(description(`<device><serviceList><service><serviceType>` + WANIPConnection2 + `</serviceType><controlURL>/ctl</controlURL></service></serviceList></device>`)))
	f.Add([]byte(description(`<URLBase>http://1.2.3.4/</URLBase><device><deviceList><device><serviceList><service><serviceType>` + WANPPPConnection1 + `</serviceType><controlURL>x</controlURL></service></serviceList></device></deviceList></device>`)))
	f.Add([]byte(description(`<device/>`)))
	f.Add([]byte(`<root><device><deviceList><device><deviceList><device>`))
	f.Add([]byte(`<!DOCTYPE root [<!ENTITY x "y">]><root>&x;</root>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDescription(b)
		if err != nil {
			return
		}
		if s, ok := d.Preferred(); !ok || s.ControlURL == "" {
			t.Fatalf("accepted %+v without a usable service", d)
		}
	})
}

// FuzzParseSOAPResponse: any body parses, is a *SOAPError, or is refused,
// and never yields more than the argument limit.
func FuzzParseSOAPResponse(f *testing.F) {
	f.Add([]byte(soapBody(`<u:XResponse><NewReservedPort>40000</NewReservedPort></u:XResponse>`)))
	f.Add([]byte(soapBody(`<s:Fault><detail><UPnPError><errorCode>725</errorCode></UPnPError></detail></s:Fault>`)))
	f.Add([]byte(soapBody(`<u:YResponse/>`)))
	f.Add([]byte(`<Envelope><Body><XResponse><a>1</a><a>2</a></XResponse></Body></Envelope>`))
	f.Add([]byte(`<?xml version="1.0" encoding="latin1"?><Envelope/>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := ParseSOAPResponse(b, "X")
		if err == nil && len(out) > maxSOAPArgs {
			t.Fatalf("%d arguments", len(out))
		}
	})
}
