package upnp

import (
	"errors"
	"strings"
	"testing"
)

const searchOK = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n" +
	"USN: uuid:x::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nEXT:\r\nSERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\n" +
	"LOCATION: http://10.77.0.1:33573/rootDesc.xml\r\n\r\n"

func TestParseSearchResponse(t *testing.T) {
	r, err := ParseSearchResponse([]byte(searchOK))
	if err != nil {
		t.Fatal(err)
	}
	if r.Location.String() != "http://10.77.0.1:33573/rootDesc.xml" || r.ST != IGDv1 || !strings.Contains(r.Server, "MiniUPnPd") {
		t.Fatalf("parsed %+v", r)
	}
	bad := map[string]string{
		"garbage":       "hello",
		"status":        strings.Replace(searchOK, "200 OK", "404 Not Found", 1),
		"no location":   strings.Replace(searchOK, "LOCATION", "X-LOC", 1),
		"https":         strings.Replace(searchOK, "http://", "https://", 1),
		"relative":      strings.Replace(searchOK, "http://10.77.0.1:33573", "", 1),
		"bad url":       strings.Replace(searchOK, "http://10.77.0.1:33573", "http://[::1", 1),
		"oversize":      searchOK + strings.Repeat("X", MaxSSDPMessage),
		"request shape": "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n",
	}
	for name, b := range bad {
		if _, err := ParseSearchResponse([]byte(b)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if req := string(SearchRequest(IGDv2, 1)); !strings.HasPrefix(req, "M-SEARCH * HTTP/1.1\r\n") ||
		!strings.Contains(req, "ST: "+IGDv2+"\r\n") || !strings.Contains(req, "MAN: \"ssdp:discover\"\r\n") || !strings.HasSuffix(req, "\r\n\r\n") {
		t.Fatalf("search request %q", req)
	}
}

func description(inner string) string {
	return `<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">` + inner + `</root>`
}

func TestParseDescription(t *testing.T) {
	nested := description(`<URLBase> http://10.0.0.1:5000/ </URLBase><device><serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><controlURL>/l3f</controlURL></service></serviceList>
<deviceList><device><deviceList><device><serviceList>
<service><serviceType>` + WANPPPConnection1 + `</serviceType><controlURL>/ppp</controlURL></service>
<service><serviceType>` + WANIPConnection1 + `</serviceType><controlURL> /ip1 </controlURL></service>
<service><serviceType>` + WANIPConnection2 + `</serviceType><controlURL></controlURL></service>
</serviceList></device></deviceList></device></deviceList></device>`)
	d, err := ParseDescription([]byte(nested))
	if err != nil {
		t.Fatal(err)
	}
	if d.URLBase != "http://10.0.0.1:5000/" || len(d.WAN) != 2 {
		t.Fatalf("parsed %+v", d)
	}
	// WANIPConnection:2 has no control URL, so :1 wins over PPP.
	if s, ok := d.Preferred(); !ok || s.Type != WANIPConnection1 || s.ControlURL != "/ip1" {
		t.Fatalf("preferred %+v %v", s, ok)
	}
	if _, err := ParseDescription([]byte(description(`<device><serviceList/></device>`))); !errors.Is(err, ErrNoWANService) {
		t.Fatalf("no WAN service: %v", err)
	}
	for name, b := range map[string]string{
		"not xml":   "<<<",
		"not root":  `<scpd><device/></scpd>`,
		"truncated": nested[:len(nested)/2],
		"oversize":  description(strings.Repeat(" ", MaxDescription)),
	} {
		if _, err := ParseDescription([]byte(b)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func soapBody(inner string) string {
	return `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>` + inner + `</s:Body></s:Envelope>`
}

func TestParseSOAPResponse(t *testing.T) {
	out, err := ParseSOAPResponse([]byte(soapBody(`<u:GetExternalIPAddressResponse xmlns:u="x"><NewExternalIPAddress> 5.5.5.1 </NewExternalIPAddress></u:GetExternalIPAddressResponse>`)), "GetExternalIPAddress")
	if err != nil || out["NewExternalIPAddress"] != "5.5.5.1" {
		t.Fatalf("%v %v", out, err)
	}
	fault := soapBody(`<s:Fault><faultcode>s:Client</faultcode><detail><UPnPError><errorCode>718</errorCode><errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail></s:Fault>`)
	_, err = ParseSOAPResponse([]byte(fault), "AddPortMapping")
	var se *SOAPError
	if !errors.As(err, &se) || se.Code != ErrCodeConflict || se.Description != "ConflictInMappingEntry" {
		t.Fatalf("fault: %v", err)
	}
	many := strings.Repeat("<a>1</a>", maxSOAPArgs+1)
	for name, b := range map[string]string{
		"other action":    soapBody(`<u:DeletePortMappingResponse/>`),
		"fault no code":   soapBody(`<s:Fault><detail/></s:Fault>`),
		"no envelope":     `<Body><x/></Body>`,
		"empty body":      soapBody(``),
		"garbage":         "\x00\x01",
		"too many args":   soapBody(`<u:XResponse>` + many + `</u:XResponse>`),
		"unclosed":        soapBody(`<u:XResponse><a>1</a>`)[:60],
		"oversize":        soapBody(`<u:XResponse>` + strings.Repeat(" ", MaxSOAPResponse) + `</u:XResponse>`),
		"nested argument": soapBody(`<u:XResponse><a><b>`),
	} {
		if _, err := ParseSOAPResponse([]byte(b), "X"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	req := string(soapRequest(WANIPConnection2, "AddPortMapping", []arg{{"NewPortMappingDescription", "a<b&c"}}))
	if !strings.Contains(req, `<u:AddPortMapping xmlns:u="`+WANIPConnection2+`">`) || !strings.Contains(req, "a&lt;b&amp;c") {
		t.Fatalf("request %s", req)
	}
}
