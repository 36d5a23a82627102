package wire

import (
	"encoding/binary"
	"net/netip"
)

func paramErr(reason string) error {
	return &TransportError{Code: TransportParameterError, Reason: reason}
}

// paramBit gives each known parameter a bit for duplicate detection.
func paramBit(id TransportParameterID) (uint32, bool) {
	if id <= ParamRetrySourceConnectionID {
		return 1 << id, true
	}
	switch id {
	case ParamMaxDatagramFrameSize:
		return 1 << 17, true
	case ParamInitialMaxPathID:
		return 1 << 18, true
	case ParamGreaseQUICBit:
		return 1 << 19, true
	case ParamAddressDiscovery:
		return 1 << 20, true
	case ParamMinAckDelay:
		return 1 << 21, true
	case ParamN0NATTraversal:
		return 1 << 22, true
	}
	return 0, false
}

// intParam decodes an integer parameter whose varint must fill the value
// exactly.
func intParam(v []byte) (uint64, error) {
	x, n, err := ParseVarint(v)
	if err != nil || n != len(v) {
		return 0, paramErr("malformed integer parameter")
	}
	return x, nil
}

func cidParam(v []byte) ([]byte, error) {
	if len(v) > MaxConnIDLen {
		return nil, paramErr("connection ID too long")
	}
	return v, nil
}

// UnmarshalTransportParameters decodes the parameters sent by the peer in
// role from. Unknown parameters are ignored. Duplicates, malformed values,
// values RFC 9000 §18.2 forbids and server-only parameters from a client are
// TRANSPORT_PARAMETER_ERRORs. The result's slices alias b.
func UnmarshalTransportParameters(b []byte, from Role) (TransportParameters, error) {
	p := DefaultTransportParameters()
	var seen uint32
	for len(b) > 0 {
		rawID, n, err := ParseVarint(b)
		if err != nil {
			return p, paramErr("truncated parameter ID")
		}
		b = b[n:]
		vlen, n, err := ParseVarint(b)
		if err != nil || vlen > uint64(len(b)-n) {
			return p, paramErr("truncated parameter value")
		}
		v := b[n : n+int(vlen)]
		b = b[n+int(vlen):]

		id := TransportParameterID(rawID)
		bit, known := paramBit(id)
		if !known {
			continue
		}
		if seen&bit != 0 {
			return p, paramErr("duplicate parameter " + id.String())
		}
		seen |= bit
		if err := p.set(id, v); err != nil {
			return p, err
		}
	}
	return p, p.validate(from)
}

func (p *TransportParameters) set(id TransportParameterID, v []byte) error {
	var err error
	switch id {
	case ParamOriginalDestinationConnectionID:
		p.OriginalDestinationConnectionID, err = cidParam(v)
		p.HasOriginalDestinationConnectionID = true
	case ParamInitialSourceConnectionID:
		p.InitialSourceConnectionID, err = cidParam(v)
		p.HasInitialSourceConnectionID = true
	case ParamRetrySourceConnectionID:
		p.RetrySourceConnectionID, err = cidParam(v)
		p.HasRetrySourceConnectionID = true
	case ParamStatelessResetToken:
		if len(v) != ResetTokenLen {
			return paramErr("stateless_reset_token must be 16 bytes")
		}
		copy(p.StatelessResetToken[:], v)
		p.HasStatelessResetToken = true
	case ParamDisableActiveMigration, ParamGreaseQUICBit:
		if len(v) != 0 {
			return paramErr(id.String() + " must be empty")
		}
		if id == ParamGreaseQUICBit {
			p.GreaseQUICBit = true
		} else {
			p.DisableActiveMigration = true
		}
	case ParamPreferredAddress:
		p.PreferredAddress, err = parsePreferredAddress(v)
	case ParamN0NATTraversal:
		if len(v) != 1 || v[0] == 0 {
			return paramErr("n0 NAT traversal limit must be one non-zero byte")
		}
		p.MaxRemoteNATAddresses = v[0]
	default:
		var x uint64
		if x, err = intParam(v); err != nil {
			return err
		}
		p.setInt(id, x)
	}
	return err
}

func (p *TransportParameters) setInt(id TransportParameterID, x uint64) {
	switch id {
	case ParamMaxIdleTimeout:
		p.MaxIdleTimeout = x
	case ParamMaxUDPPayloadSize:
		p.MaxUDPPayloadSize = x
	case ParamInitialMaxData:
		p.InitialMaxData = x
	case ParamInitialMaxStreamDataBidiLocal:
		p.InitialMaxStreamDataBidiLocal = x
	case ParamInitialMaxStreamDataBidiRemote:
		p.InitialMaxStreamDataBidiRemote = x
	case ParamInitialMaxStreamDataUni:
		p.InitialMaxStreamDataUni = x
	case ParamInitialMaxStreamsBidi:
		p.InitialMaxStreamsBidi = x
	case ParamInitialMaxStreamsUni:
		p.InitialMaxStreamsUni = x
	case ParamAckDelayExponent:
		p.AckDelayExponent = x
	case ParamMaxAckDelay:
		p.MaxAckDelay = x
	case ParamActiveConnectionIDLimit:
		p.ActiveConnectionIDLimit = x
	case ParamMaxDatagramFrameSize:
		p.MaxDatagramFrameSize = x
	case ParamInitialMaxPathID:
		p.InitialMaxPathID, p.HasInitialMaxPathID = x, true
	case ParamMinAckDelay:
		p.MinAckDelay, p.HasMinAckDelay = x, true
	case ParamAddressDiscovery:
		// Out-of-range roles are caught by validate.
		p.AddressDiscovery, p.HasAddressDiscovery = AddressDiscoveryRole(min(x, 255)), true
	}
}

func parsePreferredAddress(v []byte) (*PreferredAddress, error) {
	const fixed = 4 + 2 + 16 + 2 + 1
	if len(v) < fixed {
		return nil, paramErr("preferred_address too short")
	}
	cidLen := int(v[fixed-1])
	if cidLen < 1 || cidLen > MaxConnIDLen || len(v) != fixed+cidLen+ResetTokenLen {
		return nil, paramErr("preferred_address malformed")
	}
	pa := &PreferredAddress{ConnID: v[fixed : fixed+cidLen]}
	if v4 := netip.AddrFrom4([4]byte(v[0:4])); !v4.IsUnspecified() || v[4]|v[5] != 0 {
		pa.IPv4 = netip.AddrPortFrom(v4, binary.BigEndian.Uint16(v[4:6]))
	}
	if v6 := netip.AddrFrom16([16]byte(v[6:22])); !v6.IsUnspecified() || v[22]|v[23] != 0 {
		pa.IPv6 = netip.AddrPortFrom(v6, binary.BigEndian.Uint16(v[22:24]))
	}
	copy(pa.ResetToken[:], v[fixed+cidLen:])
	return pa, nil
}

func (p *TransportParameters) validate(from Role) error {
	switch {
	case p.MaxUDPPayloadSize < 1200:
		return paramErr("max_udp_payload_size below 1200")
	case p.AckDelayExponent > 20:
		return paramErr("ack_delay_exponent above 20")
	case p.MaxAckDelay >= 1<<14:
		return paramErr("max_ack_delay not below 2^14")
	case p.ActiveConnectionIDLimit < 2:
		return paramErr("active_connection_id_limit below 2")
	case p.InitialMaxStreamsBidi > MaxStreamCount || p.InitialMaxStreamsUni > MaxStreamCount:
		return paramErr("initial_max_streams above 2^60")
	case p.HasMinAckDelay && p.MinAckDelay > p.MaxAckDelay*1000:
		return paramErr("min_ack_delay above max_ack_delay")
	case p.HasInitialMaxPathID && p.InitialMaxPathID > MaxPathID:
		return paramErr("initial_max_path_id above 2^32-1")
	case p.HasAddressDiscovery && p.AddressDiscovery > AddressDiscoverySendReceive:
		return paramErr("unknown address discovery role")
	}
	if from == RoleClient && (p.HasOriginalDestinationConnectionID || p.HasStatelessResetToken ||
		p.PreferredAddress != nil || p.HasRetrySourceConnectionID) {
		return paramErr("server-only parameter sent by client")
	}
	return nil
}

var paramNames = map[TransportParameterID]string{
	ParamOriginalDestinationConnectionID: "original_destination_connection_id",
	ParamMaxIdleTimeout:                  "max_idle_timeout",
	ParamStatelessResetToken:             "stateless_reset_token",
	ParamMaxUDPPayloadSize:               "max_udp_payload_size",
	ParamInitialMaxData:                  "initial_max_data",
	ParamInitialMaxStreamDataBidiLocal:   "initial_max_stream_data_bidi_local",
	ParamInitialMaxStreamDataBidiRemote:  "initial_max_stream_data_bidi_remote",
	ParamInitialMaxStreamDataUni:         "initial_max_stream_data_uni",
	ParamInitialMaxStreamsBidi:           "initial_max_streams_bidi",
	ParamInitialMaxStreamsUni:            "initial_max_streams_uni",
	ParamAckDelayExponent:                "ack_delay_exponent",
	ParamMaxAckDelay:                     "max_ack_delay",
	ParamDisableActiveMigration:          "disable_active_migration",
	ParamPreferredAddress:                "preferred_address",
	ParamActiveConnectionIDLimit:         "active_connection_id_limit",
	ParamInitialSourceConnectionID:       "initial_source_connection_id",
	ParamRetrySourceConnectionID:         "retry_source_connection_id",
	ParamMaxDatagramFrameSize:            "max_datagram_frame_size",
	ParamInitialMaxPathID:                "initial_max_path_id",
	ParamGreaseQUICBit:                   "grease_quic_bit",
	ParamAddressDiscovery:                "address_discovery",
	ParamMinAckDelay:                     "min_ack_delay",
	ParamN0NATTraversal:                  "n0_nat_traversal",
}

func (id TransportParameterID) String() string {
	if name, ok := paramNames[id]; ok {
		return name
	}
	return "unknown parameter"
}
