package upnp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits on SOAP responses.
const (
	MaxSOAPResponse = 16 << 10
	maxSOAPArgs     = 32
)

// ErrSOAP means a SOAP response is malformed or answers another action.
var ErrSOAP = errors.New("upnp: malformed SOAP response")

// SOAPError is a UPnP error returned in a SOAP fault.
type SOAPError struct {
	Code        int
	Description string
}

func (e *SOAPError) Error() string {
	return fmt.Sprintf("upnp: gateway error %d (%s)", e.Code, e.Description)
}

// UPnP error codes a port mapper reacts to (IGD WANIPConnection spec).
const (
	ErrCodeInvalidAction       = 401
	ErrCodeConflict            = 718 // ConflictInMappingEntry
	ErrCodeOnlyPermanentLeases = 725
)

// arg is one SOAP action argument, in order.
type arg struct{ name, value string }

// soapRequest builds the envelope for action of serviceType.
func soapRequest(serviceType, action string, args []arg) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?>` + "\r\n" +
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>`)
	fmt.Fprintf(&b, `<u:%s xmlns:u="%s">`, action, escape(serviceType))
	for _, a := range args {
		fmt.Fprintf(&b, "<%s>%s</%s>", a.name, escape(a.value), a.name)
	}
	fmt.Fprintf(&b, "</u:%s></s:Body></s:Envelope>\r\n", action)
	return b.Bytes()
}

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// ParseSOAPResponse decodes the response to action: the out arguments of
// <actionResponse>, or a *SOAPError for a fault.
func ParseSOAPResponse(body []byte, action string) (map[string]string, error) {
	if len(body) > MaxSOAPResponse {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(body))
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	first, err := bodyElement(dec)
	if err != nil {
		return nil, err
	}
	switch first.Name.Local {
	case action + "Response":
		return elementTexts(dec)
	case "Fault":
		return nil, parseFault(dec, first)
	}
	return nil, fmt.Errorf("%w: <%s> answers no %s", ErrSOAP, first.Name.Local, action)
}

// bodyElement reads up to the first element inside Envelope/Body.
func bodyElement(dec *xml.Decoder) (xml.StartElement, error) {
	path := []string{"Envelope", "Body"}
	for depth := 0; ; {
		tok, err := dec.Token()
		if err != nil {
			return xml.StartElement{}, fmt.Errorf("%w: %v", ErrSOAP, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == len(path) {
				return t, nil
			}
			if t.Name.Local != path[depth] {
				return xml.StartElement{}, fmt.Errorf("%w: unexpected <%s>", ErrSOAP, t.Name.Local)
			}
			depth++
		case xml.EndElement:
			return xml.StartElement{}, fmt.Errorf("%w: empty body", ErrSOAP)
		}
	}
}

// elementTexts collects the text of each child element of the current
// element, up to its end.
func elementTexts(dec *xml.Decoder) (map[string]string, error) {
	out := map[string]string{}
	for n := 0; ; {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSOAP, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if n++; n > maxSOAPArgs {
				return nil, fmt.Errorf("%w: more than %d arguments", ErrSOAP, maxSOAPArgs)
			}
			var text string
			if err := dec.DecodeElement(&text, &t); err != nil {
				return nil, fmt.Errorf("%w: <%s>: %v", ErrSOAP, t.Name.Local, err)
			}
			out[t.Name.Local] = strings.TrimSpace(text)
		case xml.EndElement:
			return out, nil
		}
	}
}

type xmlFault struct {
	Code        string `xml:"detail>UPnPError>errorCode"`
	Description string `xml:"detail>UPnPError>errorDescription"`
}

func parseFault(dec *xml.Decoder, start xml.StartElement) error {
	var f xmlFault
	if err := dec.DecodeElement(&f, &start); err != nil {
		return fmt.Errorf("%w: fault: %v", ErrSOAP, err)
	}
	code, err := strconv.Atoi(strings.TrimSpace(f.Code))
	if err != nil {
		return fmt.Errorf("%w: fault without a UPnP error code", ErrSOAP)
	}
	return &SOAPError{Code: code, Description: strings.TrimSpace(f.Description)}
}
