package lookup

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/alkdev/irohspoke/identity"
)

// ContentTypePkarr is the media type of pkarr relay bodies.
const ContentTypePkarr = "application/x-pkarr-signed-packet"

// StatusError is a pkarr relay reply with an unexpected HTTP status.
type StatusError struct {
	Method string
	Code   int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("lookup: pkarr relay %s: HTTP %d", e.Method, e.Code)
}

// PkarrResolver reads signed packets from a pkarr relay
// (GET <BaseURL>/<z32>), e.g. BaseURL "https://dns.iroh.link/pkarr".
type PkarrResolver struct {
	BaseURL string
	Client  *http.Client // nil means http.DefaultClient
}

// Resolve implements Resolver. An unknown endpoint gives ErrNotFound.
func (r *PkarrResolver) Resolve(ctx context.Context, id identity.EndpointID) (EndpointInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pkarrURL(r.BaseURL, id), nil)
	if err != nil {
		return EndpointInfo{ID: id}, err
	}
	resp, err := httpClient(r.Client).Do(req)
	if err != nil {
		return EndpointInfo{ID: id}, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return EndpointInfo{ID: id}, ErrNotFound
	default:
		return EndpointInfo{ID: id}, statusErr(http.MethodGet, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxSignedPacketLen))
	if err != nil {
		return EndpointInfo{ID: id}, err
	}
	p, err := ParseRelayPayload(id, body)
	if err != nil {
		return EndpointInfo{ID: id}, err
	}
	return p.EndpointInfo()
}

// PutPacket publishes p to the pkarr relay at baseURL.
func PutPacket(ctx context.Context, client *http.Client, baseURL string, p *SignedPacket) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, pkarrURL(baseURL, p.ID), bytes.NewReader(p.RelayPayload()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ContentTypePkarr)
	resp, err := httpClient(client).Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return nil
	}
	return statusErr(http.MethodPut, resp.StatusCode)
}

func statusErr(method string, code int) error {
	if code == http.StatusTooManyRequests {
		return fmt.Errorf("%w: %w", ErrRateLimited, &StatusError{method, code})
	}
	return &StatusError{method, code}
}

func pkarrURL(base string, id identity.EndpointID) string {
	return strings.TrimSuffix(base, "/") + "/" + id.ZBase32()
}

func httpClient(c *http.Client) *http.Client {
	if c == nil {
		return http.DefaultClient
	}
	return c
}
