package lookup

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// pkarr signed packet layout: key[32] ‖ sig[64] ‖ timestamp u64 BE (µs) ‖
// DNS message.
const (
	// MaxDNSMessageLen bounds the DNS message inside a signed packet.
	MaxDNSMessageLen = 1000
	// MaxSignedPacketLen is the largest signed packet (1104 bytes).
	MaxSignedPacketLen = signedHeaderLen + MaxDNSMessageLen
	// DefaultTTL is the TTL iroh gives its published records.
	DefaultTTL = 30
	// IrohLabel is the first label of every iroh TXT record name.
	IrohLabel = "_iroh"

	signedHeaderLen = 32 + ed25519.SignatureSize + 8
	// maxRelayPayloadLen: a relay body is the packet without its key.
	maxRelayPayloadLen = MaxSignedPacketLen - 32
)

// SignedPacket is a pkarr signed packet: a DNS message signed by the
// endpoint's key, with a timestamp that orders successive publications.
type SignedPacket struct {
	ID        identity.EndpointID
	Signature [ed25519.SignatureSize]byte
	Timestamp uint64 // microseconds since the Unix epoch
	DNS       []byte // the encoded DNS message
}

// lastTimestamp makes Now strictly monotonic within the process, as
// iroh's is: a relay keeps only a packet newer than the stored one.
var lastTimestamp atomic.Uint64

// Now returns the current time in pkarr timestamp form, strictly greater
// than any value it returned before.
func Now() uint64 {
	now := uint64(time.Now().UnixMicro())
	for {
		last := lastTimestamp.Load()
		next := max(now, last+1)
		if lastTimestamp.CompareAndSwap(last, next) {
			return next
		}
	}
}

// signable is the BEP-44 bencoded string pkarr signs:
// "3:seqi<ts>e1:v<len>:<dns>".
func signable(timestamp uint64, dns []byte) []byte {
	b := make([]byte, 0, 32+len(dns))
	b = append(b, "3:seqi"...)
	b = strconv.AppendUint(b, timestamp, 10)
	b = append(b, "e1:v"...)
	b = strconv.AppendInt(b, int64(len(dns)), 10)
	b = append(b, ':')
	return append(b, dns...)
}

// Sign makes a signed packet of an encoded DNS message.
func Sign(key identity.SecretKey, timestamp uint64, dns []byte) (*SignedPacket, error) {
	if key.IsZero() {
		return nil, fmt.Errorf("%w: no secret key", ErrBadSignature)
	}
	if len(dns) > MaxDNSMessageLen {
		return nil, fmt.Errorf("%w: %d-byte DNS message (max %d)", ErrMessageTooLarge, len(dns), MaxDNSMessageLen)
	}
	if _, err := ParseMessage(dns); err != nil {
		return nil, err
	}
	p := &SignedPacket{ID: key.Public(), Timestamp: timestamp, DNS: append([]byte(nil), dns...)}
	copy(p.Signature[:], key.Sign(signable(timestamp, dns)))
	return p, nil
}

// Bytes is the full wire form: key ‖ sig ‖ timestamp ‖ DNS.
func (p *SignedPacket) Bytes() []byte {
	b := make([]byte, 0, signedHeaderLen+len(p.DNS))
	b = append(b, p.ID[:]...)
	return p.appendPayload(b)
}

// RelayPayload is the body of a pkarr relay PUT or GET: the packet
// without its leading key.
func (p *SignedPacket) RelayPayload() []byte {
	return p.appendPayload(make([]byte, 0, signedHeaderLen-32+len(p.DNS)))
}

func (p *SignedPacket) appendPayload(b []byte) []byte {
	b = append(b, p.Signature[:]...)
	b = binary.BigEndian.AppendUint64(b, p.Timestamp)
	return append(b, p.DNS...)
}

// ParseSignedPacket decodes a full signed packet, checks its size and
// verifies the signature (strictly: small-order keys and R values are
// refused) and that the DNS message parses.
func ParseSignedPacket(b []byte) (*SignedPacket, error) {
	if len(b) < signedHeaderLen {
		return nil, fmt.Errorf("%w: %d bytes, at least %d needed", ErrMalformedPacket, len(b), signedHeaderLen)
	}
	if len(b) > MaxSignedPacketLen {
		return nil, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrMalformedPacket, len(b), MaxSignedPacketLen)
	}
	id, err := identity.EndpointIDFromBytes(b[:32])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	p := &SignedPacket{
		ID:        id,
		Timestamp: binary.BigEndian.Uint64(b[96:104]),
		DNS:       append([]byte(nil), b[signedHeaderLen:]...),
	}
	copy(p.Signature[:], b[32:96])
	if !id.Verify(signable(p.Timestamp, p.DNS), p.Signature[:]) {
		return nil, ErrBadSignature
	}
	if _, err := ParseMessage(p.DNS); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedPacket, err)
	}
	return p, nil
}

// ParseRelayPayload decodes and verifies a pkarr relay body for id.
func ParseRelayPayload(id identity.EndpointID, payload []byte) (*SignedPacket, error) {
	if len(payload) > maxRelayPayloadLen {
		return nil, fmt.Errorf("%w: %d-byte payload", ErrMalformedPacket, len(payload))
	}
	return ParseSignedPacket(append(id[:len(id):len(id)], payload...))
}

// NewerThan reports whether p supersedes o: a later timestamp, or the
// same timestamp and a larger DNS message byte-wise (pkarr's tie-break).
func (p *SignedPacket) NewerThan(o *SignedPacket) bool {
	if p.Timestamp != o.Timestamp {
		return p.Timestamp > o.Timestamp
	}
	return bytes.Compare(p.DNS, o.DNS) > 0
}

// IrohName is the relative record name iroh uses inside a signed packet,
// "_iroh.<z32>".
func IrohName(id identity.EndpointID) string { return IrohLabel + "." + id.ZBase32() }

// BuildDNS encodes info as iroh does for a signed packet: a response
// (flags 0x8000) with one TXT answer per attribute, all named
// "_iroh.<z32>", with the given TTL.
func BuildDNS(info EndpointInfo, ttl uint32) ([]byte, error) {
	attrs, err := info.TXTAttrs()
	if err != nil {
		return nil, err
	}
	name := IrohName(info.ID)
	m := Message{Flags: FlagResponse, Answers: make([]Record, 0, len(attrs))}
	for _, a := range attrs {
		m.Answers = append(m.Answers, Record{Name: name, Type: TypeTXT, Class: ClassIN, TTL: ttl, Data: TXTData(a)})
	}
	dns, err := m.Pack()
	if err != nil {
		return nil, err
	}
	if len(dns) > MaxDNSMessageLen {
		return nil, fmt.Errorf("%w: %d-byte DNS message (max %d)", ErrMessageTooLarge, len(dns), MaxDNSMessageLen)
	}
	return dns, nil
}

// SignEndpointInfo builds and signs the packet key publishes for info
// (info.ID is replaced by the key's id).
func SignEndpointInfo(key identity.SecretKey, info EndpointInfo, timestamp uint64, ttl uint32) (*SignedPacket, error) {
	info.ID = key.Public()
	dns, err := BuildDNS(info, ttl)
	if err != nil {
		return nil, err
	}
	return Sign(key, timestamp, dns)
}

// TXTRecords returns the concatenated strings of every TXT answer named
// "_iroh.<z32>" (case-insensitively), in packet order.
func (p *SignedPacket) TXTRecords() ([]string, error) {
	m, err := ParseMessage(p.DNS)
	if err != nil {
		return nil, err
	}
	return irohTXT(m.Answers, IrohName(p.ID))
}

// EndpointInfo parses the packet's iroh records (see ParseTXTAttrs).
func (p *SignedPacket) EndpointInfo() (EndpointInfo, error) {
	recs, err := p.TXTRecords()
	if err != nil {
		return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: p.ID}}, err
	}
	return ParseTXTAttrs(p.ID, recs), nil
}

// irohTXT collects the TXT answers named name, each record's
// character-strings concatenated.
func irohTXT(answers []Record, name string) ([]string, error) {
	var out []string
	for _, r := range answers {
		if r.Type != TypeTXT || !equalName(r.Name, name) {
			continue
		}
		parts, err := TXTStrings(r.Data)
		if err != nil {
			return nil, err
		}
		out = append(out, string(bytes.Join(parts, nil)))
	}
	return out, nil
}
