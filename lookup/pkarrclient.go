package lookup

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// ContentTypePkarr is the media type of pkarr relay bodies.
const ContentTypePkarr = "application/x-pkarr-signed-packet"

// DefaultMaxFutureSkew is how far in the future a resolved packet may be
// dated (clocks disagree; a packet from beyond is refused).
const DefaultMaxFutureSkew = 10 * time.Minute

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
//
// Beyond the signature it checks freshness: a packet dated more than
// MaxFutureSkew ahead is refused (ErrFuturePacket), and so is one older
// than a packet this resolver already accepted for the same endpoint
// (ErrStalePacket), remembered for the last 4096 endpoints.
type PkarrResolver struct {
	BaseURL string
	// Client defaults to DefaultHTTPClient (the relay client's trust,
	// proxies from the environment).
	Client *http.Client
	// MaxFutureSkew defaults to DefaultMaxFutureSkew.
	MaxFutureSkew time.Duration
	// Now defaults to time.Now.
	Now func() time.Time

	seen newestSeen
}

// Resolve implements Resolver. An unknown endpoint gives ErrNotFound; a
// hostile answer (oversize, unsigned, signed by another key, stale, from
// the future) gives an error saying which.
func (r *PkarrResolver) Resolve(ctx context.Context, id identity.EndpointID) (EndpointInfo, error) {
	p, err := r.fetch(ctx, id)
	if err != nil {
		return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: id}}, err
	}
	if err := r.checkFresh(p); err != nil {
		return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: id}}, fmt.Errorf("%w (relay %s, endpoint %s)", err, r.BaseURL, id.ZBase32())
	}
	r.seen.observe(id, p.Timestamp)
	return p.EndpointInfo()
}

// fetch GETs and verifies id's packet.
func (r *PkarrResolver) fetch(ctx context.Context, id identity.EndpointID) (*SignedPacket, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pkarrURL(r.BaseURL, id), nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient(r.Client).Do(req)
	if err != nil {
		return nil, fmt.Errorf("lookup: pkarr relay %s: %w", r.BaseURL, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, fmt.Errorf("%w: pkarr relay %s has no packet for %s", ErrNotFound, r.BaseURL, id.ZBase32())
	default:
		return nil, statusErr(http.MethodGet, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRelayPayloadLen+1))
	if err != nil {
		return nil, fmt.Errorf("lookup: pkarr relay %s: reading the packet: %w", r.BaseURL, err)
	}
	if len(body) > maxRelayPayloadLen {
		return nil, fmt.Errorf("%w: pkarr relay %s sent over %d bytes for %s", ErrMessageTooLarge, r.BaseURL, maxRelayPayloadLen, id.ZBase32())
	}
	p, err := ParseRelayPayload(id, body)
	if err != nil {
		return nil, fmt.Errorf("%w (relay %s, endpoint %s)", err, r.BaseURL, id.ZBase32())
	}
	return p, nil
}

// checkFresh refuses packets from the future or older than one seen.
func (r *PkarrResolver) checkFresh(p *SignedPacket) error {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	skew := r.MaxFutureSkew
	if skew <= 0 {
		skew = DefaultMaxFutureSkew
	}
	at := time.UnixMicro(int64(min(p.Timestamp, 1<<62)))
	if ahead := at.Sub(now()); ahead > skew {
		return fmt.Errorf("%w: dated %v ahead (at most %v allowed)", ErrFuturePacket, ahead.Round(time.Second), skew)
	}
	if seen := r.seen.get(p.ID); p.Timestamp < seen {
		return fmt.Errorf("%w: dated %s, but one dated %s was seen", ErrStalePacket,
			at.UTC().Format(time.RFC3339), time.UnixMicro(int64(min(seen, 1<<62))).UTC().Format(time.RFC3339))
	}
	return nil
}

// PutPacket publishes p to the pkarr relay at baseURL (client nil means
// DefaultHTTPClient).
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
