package wire

import (
	"encoding/binary"
	"net/netip"
)

// TransportParameterID is a transport parameter codepoint.
type TransportParameterID uint64

// Transport parameter IDs: RFC 9000 §18.2, RFC 9221, RFC 9287 and the
// extensions noq implements.
const (
	ParamOriginalDestinationConnectionID TransportParameterID = 0x00
	ParamMaxIdleTimeout                  TransportParameterID = 0x01
	ParamStatelessResetToken             TransportParameterID = 0x02
	ParamMaxUDPPayloadSize               TransportParameterID = 0x03
	ParamInitialMaxData                  TransportParameterID = 0x04
	ParamInitialMaxStreamDataBidiLocal   TransportParameterID = 0x05
	ParamInitialMaxStreamDataBidiRemote  TransportParameterID = 0x06
	ParamInitialMaxStreamDataUni         TransportParameterID = 0x07
	ParamInitialMaxStreamsBidi           TransportParameterID = 0x08
	ParamInitialMaxStreamsUni            TransportParameterID = 0x09
	ParamAckDelayExponent                TransportParameterID = 0x0a
	ParamMaxAckDelay                     TransportParameterID = 0x0b
	ParamDisableActiveMigration          TransportParameterID = 0x0c
	ParamPreferredAddress                TransportParameterID = 0x0d
	ParamActiveConnectionIDLimit         TransportParameterID = 0x0e
	ParamInitialSourceConnectionID       TransportParameterID = 0x0f
	ParamRetrySourceConnectionID         TransportParameterID = 0x10
	ParamMaxDatagramFrameSize            TransportParameterID = 0x20           // RFC 9221
	ParamInitialMaxPathID                TransportParameterID = 0x3e           // draft-ietf-quic-multipath
	ParamGreaseQUICBit                   TransportParameterID = 0x2ab2         // RFC 9287
	ParamAddressDiscovery                TransportParameterID = 0x9f81a176     // draft-seemann-quic-address-discovery
	ParamMinAckDelay                     TransportParameterID = 0xff04de1b     // draft-ietf-quic-ack-frequency
	ParamN0NATTraversal                  TransportParameterID = 0x3d7f91120401 // n0-private
)

// RFC 9000 §18.2 defaults for parameters that are omitted.
const (
	DefaultMaxUDPPayloadSize       = 65527
	DefaultAckDelayExponent        = 3
	DefaultMaxAckDelay             = 25 // milliseconds
	DefaultActiveConnectionIDLimit = 2
)

// IsGreaseParameter reports whether id is reserved for greasing (31*N+27).
func IsGreaseParameter(id TransportParameterID) bool { return id >= 27 && (id-27)%31 == 0 }

// Role says which side of the connection sent a set of parameters.
type Role uint8

// Roles.
const (
	RoleClient Role = iota
	RoleServer
)

// AddressDiscoveryRole is the value of the QAD transport parameter.
type AddressDiscoveryRole uint8

// QAD roles (draft-seemann-quic-address-discovery).
const (
	AddressDiscoverySendOnly    AddressDiscoveryRole = 0
	AddressDiscoveryReceiveOnly AddressDiscoveryRole = 1
	AddressDiscoverySendReceive AddressDiscoveryRole = 2
)

// PreferredAddress is the server's preferred_address parameter (RFC 9000
// §18.2). An invalid (zero) Addr means that family is absent.
type PreferredAddress struct {
	IPv4       netip.AddrPort
	IPv6       netip.AddrPort
	ConnID     []byte
	ResetToken [ResetTokenLen]byte
}

// RawParameter is a parameter Marshal writes verbatim, such as a GREASE
// parameter.
type RawParameter struct {
	ID    TransportParameterID
	Value []byte
}

// TransportParameters holds every parameter iroh peers exchange. Integer
// fields carry RFC defaults when the parameter is absent (see
// DefaultTransportParameters); Has* flags mark optional parameters whose
// zero value is meaningful. Slices alias the unmarshaled buffer.
type TransportParameters struct {
	OriginalDestinationConnectionID    []byte
	HasOriginalDestinationConnectionID bool
	InitialSourceConnectionID          []byte
	HasInitialSourceConnectionID       bool
	RetrySourceConnectionID            []byte
	HasRetrySourceConnectionID         bool

	StatelessResetToken    [ResetTokenLen]byte
	HasStatelessResetToken bool

	MaxIdleTimeout                 uint64 // milliseconds, 0 = none
	MaxUDPPayloadSize              uint64
	InitialMaxData                 uint64
	InitialMaxStreamDataBidiLocal  uint64
	InitialMaxStreamDataBidiRemote uint64
	InitialMaxStreamDataUni        uint64
	InitialMaxStreamsBidi          uint64
	InitialMaxStreamsUni           uint64
	AckDelayExponent               uint64
	MaxAckDelay                    uint64 // milliseconds
	DisableActiveMigration         bool
	PreferredAddress               *PreferredAddress
	ActiveConnectionIDLimit        uint64

	// MaxDatagramFrameSize is 0 when DATAGRAM frames are not supported.
	MaxDatagramFrameSize uint64

	// MinAckDelay in microseconds; advertising it promises ACK_FREQUENCY
	// and IMMEDIATE_ACK support.
	MinAckDelay    uint64
	HasMinAckDelay bool
	// InitialMaxPathID enables multipath when both sides send it.
	InitialMaxPathID    uint64
	HasInitialMaxPathID bool
	// AddressDiscovery is the QAD role.
	AddressDiscovery    AddressDiscoveryRole
	HasAddressDiscovery bool
	// MaxRemoteNATAddresses is n0 NAT traversal's limit (1-255); 0 = absent.
	MaxRemoteNATAddresses uint8
	GreaseQUICBit         bool

	// Extra parameters appended by Marshal (e.g. GREASE). Unmarshal does
	// not fill it: unknown parameters are ignored.
	Extra []RawParameter
}

// DefaultTransportParameters returns the values RFC 9000 implies when a
// peer sends no parameters.
func DefaultTransportParameters() TransportParameters {
	return TransportParameters{
		MaxUDPPayloadSize:       DefaultMaxUDPPayloadSize,
		AckDelayExponent:        DefaultAckDelayExponent,
		MaxAckDelay:             DefaultMaxAckDelay,
		ActiveConnectionIDLimit: DefaultActiveConnectionIDLimit,
	}
}

func appendParamHeader(b []byte, id TransportParameterID, n int) []byte {
	b = AppendVarint(b, uint64(id))
	return AppendVarint(b, uint64(n))
}

func appendIntParam(b []byte, id TransportParameterID, v uint64) []byte {
	b = appendParamHeader(b, id, VarintLen(v))
	return AppendVarint(b, v)
}

func appendBytesParam(b []byte, id TransportParameterID, v []byte) []byte {
	b = appendParamHeader(b, id, len(v))
	return append(b, v...)
}

// Marshal appends the encoded parameters. Parameters equal to their RFC
// default are omitted; integers use their shortest encoding.
func (p *TransportParameters) Marshal(b []byte) []byte {
	if p.HasOriginalDestinationConnectionID {
		b = appendBytesParam(b, ParamOriginalDestinationConnectionID, p.OriginalDestinationConnectionID)
	}
	if p.MaxIdleTimeout != 0 {
		b = appendIntParam(b, ParamMaxIdleTimeout, p.MaxIdleTimeout)
	}
	if p.HasStatelessResetToken {
		b = appendBytesParam(b, ParamStatelessResetToken, p.StatelessResetToken[:])
	}
	if p.MaxUDPPayloadSize != DefaultMaxUDPPayloadSize {
		b = appendIntParam(b, ParamMaxUDPPayloadSize, p.MaxUDPPayloadSize)
	}
	for _, ip := range [...]struct {
		id TransportParameterID
		v  uint64
	}{
		{ParamInitialMaxData, p.InitialMaxData},
		{ParamInitialMaxStreamDataBidiLocal, p.InitialMaxStreamDataBidiLocal},
		{ParamInitialMaxStreamDataBidiRemote, p.InitialMaxStreamDataBidiRemote},
		{ParamInitialMaxStreamDataUni, p.InitialMaxStreamDataUni},
		{ParamInitialMaxStreamsBidi, p.InitialMaxStreamsBidi},
		{ParamInitialMaxStreamsUni, p.InitialMaxStreamsUni},
	} {
		if ip.v != 0 {
			b = appendIntParam(b, ip.id, ip.v)
		}
	}
	if p.AckDelayExponent != DefaultAckDelayExponent {
		b = appendIntParam(b, ParamAckDelayExponent, p.AckDelayExponent)
	}
	if p.MaxAckDelay != DefaultMaxAckDelay {
		b = appendIntParam(b, ParamMaxAckDelay, p.MaxAckDelay)
	}
	if p.DisableActiveMigration {
		b = appendParamHeader(b, ParamDisableActiveMigration, 0)
	}
	if pa := p.PreferredAddress; pa != nil {
		b = appendParamHeader(b, ParamPreferredAddress, 4+2+16+2+1+len(pa.ConnID)+ResetTokenLen)
		b = appendPreferredAddress(b, pa)
	}
	if p.ActiveConnectionIDLimit != DefaultActiveConnectionIDLimit {
		b = appendIntParam(b, ParamActiveConnectionIDLimit, p.ActiveConnectionIDLimit)
	}
	if p.HasInitialSourceConnectionID {
		b = appendBytesParam(b, ParamInitialSourceConnectionID, p.InitialSourceConnectionID)
	}
	if p.HasRetrySourceConnectionID {
		b = appendBytesParam(b, ParamRetrySourceConnectionID, p.RetrySourceConnectionID)
	}
	if p.MaxDatagramFrameSize != 0 {
		b = appendIntParam(b, ParamMaxDatagramFrameSize, p.MaxDatagramFrameSize)
	}
	if p.HasInitialMaxPathID {
		b = appendIntParam(b, ParamInitialMaxPathID, p.InitialMaxPathID)
	}
	if p.GreaseQUICBit {
		b = appendParamHeader(b, ParamGreaseQUICBit, 0)
	}
	if p.HasMinAckDelay {
		b = appendIntParam(b, ParamMinAckDelay, p.MinAckDelay)
	}
	if p.HasAddressDiscovery {
		b = appendIntParam(b, ParamAddressDiscovery, uint64(p.AddressDiscovery))
	}
	if p.MaxRemoteNATAddresses != 0 {
		// A raw byte, not a varint (noq's encoding).
		b = appendBytesParam(b, ParamN0NATTraversal, []byte{p.MaxRemoteNATAddresses})
	}
	for _, x := range p.Extra {
		b = appendBytesParam(b, x.ID, x.Value)
	}
	return b
}

func appendPreferredAddress(b []byte, pa *PreferredAddress) []byte {
	var v4 [4]byte
	var v4port, v6port uint16
	if pa.IPv4.Addr().Is4() {
		v4 = pa.IPv4.Addr().As4()
		v4port = pa.IPv4.Port()
	}
	var v6 [16]byte
	if pa.IPv6.IsValid() {
		v6 = pa.IPv6.Addr().As16()
		v6port = pa.IPv6.Port()
	}
	b = append(b, v4[:]...)
	b = binary.BigEndian.AppendUint16(b, v4port)
	b = append(b, v6[:]...)
	b = binary.BigEndian.AppendUint16(b, v6port)
	b = append(b, byte(len(pa.ConnID)))
	b = append(b, pa.ConnID...)
	return append(b, pa.ResetToken[:]...)
}
