package protection

import (
	"crypto/sha256"

	"github.com/alkdev/irohspoke/quic/internal/tlskdf"
)

// initialSaltV1 is the QUIC v1 Initial salt (RFC 9001 §5.2).
var initialSaltV1 = []byte{
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
}

// InitialSecrets derives the client and server Initial secrets from the
// Destination Connection ID of the client's first Initial packet.
func InitialSecrets(clientDCID []byte) (client, server []byte) {
	initial := tlskdf.Extract(sha256.New, clientDCID, initialSaltV1)
	client = tlskdf.ExpandLabel(sha256.New, initial, "client in", nil, sha256.Size)
	server = tlskdf.ExpandLabel(sha256.New, initial, "server in", nil, sha256.Size)
	return client, server
}

// Keys bundles the payload and header keys for one direction.
type Keys struct {
	Packet *PacketKeys
	Header *HeaderKey
}

// NewKeys derives both payload and header protection from a traffic secret.
func NewKeys(suite Suite, secret []byte) (Keys, error) {
	pk, err := NewPacketKeys(suite, secret)
	if err != nil {
		return Keys{}, err
	}
	hk, err := NewHeaderKey(suite, secret)
	if err != nil {
		return Keys{}, err
	}
	return Keys{Packet: pk, Header: hk}, nil
}

// InitialKeys returns the Initial keys for both directions (always
// AES-128-GCM with SHA-256).
func InitialKeys(clientDCID []byte) (client, server Keys) {
	cs, ss := InitialSecrets(clientDCID)
	// Cannot fail: the suite is known and the secrets have the right size.
	client, _ = NewKeys(AES128GCMSHA256, cs)
	server, _ = NewKeys(AES128GCMSHA256, ss)
	return client, server
}
