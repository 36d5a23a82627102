package upnp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// SSDP constants (UPnP Device Architecture 1.1, section 1.3).
const (
	SSDPPort = 1900
	// MaxSSDPMessage bounds one search response; longer datagrams are refused.
	MaxSSDPMessage = 2048
	// IGD device types searched for.
	IGDv1 = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
	IGDv2 = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"
)

// SSDPGroup is the multicast group searches go to (besides the gateway itself).
const SSDPGroup = "239.255.255.250:1900"

// SSDP errors.
var (
	ErrSSDPTooLarge = errors.New("upnp: SSDP response too large")
	ErrSSDPResponse = errors.New("upnp: malformed SSDP response")
)

// SearchResponse is one answer to an M-SEARCH.
type SearchResponse struct {
	Location *url.URL // the device description
	ST       string   // search target answered
	USN      string
	Server   string
}

// SearchRequest is an M-SEARCH for the search target st with MX seconds of
// response spread.
func SearchRequest(st string, mx int) []byte {
	return fmt.Appendf(nil, "M-SEARCH * HTTP/1.1\r\nHOST: %s\r\nMAN: \"ssdp:discover\"\r\nMX: %d\r\nST: %s\r\n\r\n",
		SSDPGroup, mx, st)
}

// ParseSearchResponse decodes an HTTP-over-UDP search response. It needs a
// 200 status and an absolute http LOCATION; whether that location is
// acceptable (the gateway's address) is the caller's check.
func ParseSearchResponse(b []byte) (SearchResponse, error) {
	if len(b) > MaxSSDPMessage {
		return SearchResponse{}, ErrSSDPTooLarge
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		return SearchResponse{}, fmt.Errorf("%w: %v", ErrSSDPResponse, err)
	}
	// No body is read; the reader is in memory, so nothing leaks.
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return SearchResponse{}, fmt.Errorf("%w: status %d", ErrSSDPResponse, resp.StatusCode)
	}
	loc, err := url.Parse(strings.TrimSpace(resp.Header.Get("Location")))
	if err != nil || loc.Scheme != "http" || loc.Host == "" {
		return SearchResponse{}, fmt.Errorf("%w: LOCATION %q", ErrSSDPResponse, resp.Header.Get("Location"))
	}
	return SearchResponse{
		Location: loc,
		ST:       resp.Header.Get("St"),
		USN:      resp.Header.Get("Usn"),
		Server:   resp.Header.Get("Server"),
	}, nil
}
