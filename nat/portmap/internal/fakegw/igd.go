package fakegw

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"

	"github.com/alkdev/irohspoke/nat/portmap/upnp"
)

// serveSSDP answers every datagram as an M-SEARCH from the IGD.
func (s *Server) serveSSDP() {
	buf := make([]byte, 2048)
	for {
		_, from, err := s.ssdp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if !s.cfg.UPnP {
			continue
		}
		s.count("ssdp")
		honest := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: %s\r\nUSN: uuid:fake::%s\r\nEXT:\r\nSERVER: fakegw\r\nLOCATION: %s\r\n\r\n",
			upnp.IGDv1, upnp.IGDv1, s.URL("/rootDesc.xml"))
		if reply := s.hookSSDP(honest); reply != nil {
			_, _ = s.ssdp.WriteToUDPAddrPort(reply, from)
		}
	}
}

func (s *Server) hookSSDP(honest []byte) []byte {
	if s.cfg.SSDPReply == nil {
		return honest
	}
	return s.cfg.SSDPReply(honest)
}

// URL is an http URL on the gateway's HTTP port.
func (s *Server) URL(path string) string {
	return fmt.Sprintf("http://%s:%d%s", s.Addr, s.HTTPPort, path)
}

func (s *Server) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/rootDesc.xml", func(w http.ResponseWriter, r *http.Request) {
		s.count("desc")
		if s.cfg.Description != nil {
			s.cfg.Description(w, r)
			return
		}
		_, _ = io.WriteString(w, Description(s.serviceType(), "/ctl/IPConn"))
	})
	mux.HandleFunc("/ctl/IPConn", func(w http.ResponseWriter, r *http.Request) {
		action := soapAction(r.Header.Get("SOAPAction"))
		s.count("soap-" + action)
		if s.cfg.SOAP != nil {
			s.cfg.SOAP(w, r)
			return
		}
		s.answerSOAP(w, r, action)
	})
	return mux
}

func (s *Server) serviceType() string {
	if s.cfg.IGDv1 {
		return upnp.WANIPConnection1
	}
	return upnp.WANIPConnection2
}

var actionRe = regexp.MustCompile(`#(\w+)"?$`)

func soapAction(h string) string {
	if m := actionRe.FindStringSubmatch(h); m != nil {
		return m[1]
	}
	return ""
}

var argRe = regexp.MustCompile(`<(New\w+)>([^<]*)</New\w+>`)

func (s *Server) answerSOAP(w http.ResponseWriter, r *http.Request, action string) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	args := map[string]string{}
	for _, m := range argRe.FindAllStringSubmatch(string(body), -1) {
		args[m[1]] = m[2]
	}
	port := func(name string) uint16 { p, _ := strconv.Atoi(args[name]); return uint16(p) }
	key := Key{args["NewProtocol"], port("NewExternalPort")}
	switch action {
	case "GetExternalIPAddress":
		writeSOAP(w, s.serviceType(), action, "<NewExternalIPAddress>"+s.cfg.External.String()+"</NewExternalIPAddress>")
	case "AddPortMapping", "AddAnyPortMapping":
		if action == "AddAnyPortMapping" && s.cfg.IGDv1 {
			WriteFault(w, 401, "Invalid Action")
			return
		}
		lease, _ := strconv.ParseUint(args["NewLeaseDuration"], 10, 32)
		if held, ok := s.Leases()[key]; ok && held.InternalPort != port("NewInternalPort") {
			if action == "AddPortMapping" {
				WriteFault(w, 718, "ConflictInMappingEntry")
				return
			}
			key.ExternalPort++
		}
		s.setLease(key, Lease{Via: "upnp", InternalPort: port("NewInternalPort"), Lifetime: uint32(lease)})
		out := ""
		if action == "AddAnyPortMapping" {
			out = fmt.Sprintf("<NewReservedPort>%d</NewReservedPort>", key.ExternalPort)
		}
		writeSOAP(w, s.serviceType(), action, out)
	case "DeletePortMapping":
		if !s.deleteLease(key) {
			WriteFault(w, 714, "NoSuchEntryInArray")
			return
		}
		writeSOAP(w, s.serviceType(), action, "")
	default:
		WriteFault(w, 401, "Invalid Action")
	}
}

func writeSOAP(w http.ResponseWriter, serviceType, action, inner string) {
	w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
	fmt.Fprintf(w, `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:%sResponse xmlns:u="%s">%s</u:%sResponse></s:Body></s:Envelope>`,
		action, serviceType, inner, action)
}

// WriteFault answers with a SOAP fault carrying a UPnP error.
func WriteFault(w http.ResponseWriter, code int, desc string) {
	w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>%d</errorCode><errorDescription>%s</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`,
		code, desc)
}

// Description is an IGD device description with one WAN connection
// service of serviceType at controlURL, nested as real IGDs nest it.
func Description(serviceType, controlURL string) string {
	return fmt.Sprintf(`<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><controlURL>/ctl/L3F</controlURL></service></serviceList>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
<serviceList><service><serviceType>%s</serviceType><serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId><controlURL>%s</controlURL></service></serviceList>
</device></deviceList></device></deviceList></device></root>`, serviceType, controlURL)
}
