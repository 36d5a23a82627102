package pcp

import (
	"encoding/binary"
	"net/netip"
)

// MapData is the MAP opcode's payload, the same in requests and responses
// (in a response the ports and address are the ones assigned).
type MapData struct {
	Nonce        [12]byte
	Protocol     uint8 // ProtoUDP or ProtoTCP
	InternalPort uint16
	ExternalPort uint16     // suggested (request) or assigned (response)
	ExternalAddr netip.Addr // IPv4 comes back unmapped; the zero Addr encodes as unspecified
}

// Request is a client request.
type Request struct {
	Opcode     Opcode
	Lifetime   uint32     // seconds; 0 deletes a MAP mapping
	ClientAddr netip.Addr // the client's own address, as the server should see it
	Map        MapData    // used when Opcode is OpMap
}

// Response is a server response.
type Response struct {
	Opcode   Opcode
	Result   ResultCode
	Lifetime uint32 // seconds the mapping (or, on error, the error) lasts
	Epoch    uint32 // server epoch, seconds
	HasMap   bool   // Map holds the MAP payload
	Map      MapData
}

// Append appends the encoded request to b.
func (r Request) Append(b []byte) []byte {
	b = append(b, Version, byte(r.Opcode)&^responseBit, 0, 0)
	b = binary.BigEndian.AppendUint32(b, r.Lifetime)
	b = appendAddr(b, r.ClientAddr)
	if r.Opcode == OpMap {
		b = r.Map.append(b)
	}
	return b
}

// Append appends the encoded response to b (for test servers).
func (r Response) Append(b []byte) []byte {
	b = append(b, Version, byte(r.Opcode)|responseBit, 0, byte(r.Result))
	b = binary.BigEndian.AppendUint32(b, r.Lifetime)
	b = binary.BigEndian.AppendUint32(b, r.Epoch)
	b = append(b, make([]byte, 12)...)
	if r.HasMap {
		b = r.Map.append(b)
	}
	return b
}

func (m MapData) append(b []byte) []byte {
	b = append(b, m.Nonce[:]...)
	b = append(b, m.Protocol, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, m.InternalPort)
	b = binary.BigEndian.AppendUint16(b, m.ExternalPort)
	return appendAddr(b, m.ExternalAddr)
}

// appendAddr writes a as 16 bytes; the zero Addr becomes the IPv4-mapped
// unspecified address, which RFC 6887 uses for "no preference".
func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	s := a.As16()
	return append(b, s[:]...)
}

func decodeMap(b []byte) MapData {
	var m MapData
	copy(m.Nonce[:], b[:12])
	m.Protocol = b[12]
	m.InternalPort = binary.BigEndian.Uint16(b[16:18])
	m.ExternalPort = binary.BigEndian.Uint16(b[18:20])
	m.ExternalAddr = netip.AddrFrom16([16]byte(b[20:36])).Unmap()
	return m
}

// checkFrame applies the length and version rules shared by both directions.
func checkFrame(b []byte) error {
	switch {
	case len(b) < headerLen:
		return ErrShort
	case len(b) > MaxMessage:
		return ErrTooLong
	case len(b)%4 != 0:
		return ErrAlignment
	case b[0] != Version:
		return ErrVersion
	}
	return nil
}

// ParseResponse decodes a response. Options after the MAP payload are
// ignored. An error result code is not a decoding error: check Result.
func ParseResponse(b []byte) (Response, error) {
	if err := checkFrame(b); err != nil {
		return Response{}, err
	}
	if b[1]&responseBit == 0 {
		return Response{}, ErrNotResponse
	}
	r := Response{
		Opcode:   Opcode(b[1] &^ responseBit),
		Result:   ResultCode(b[3]),
		Lifetime: binary.BigEndian.Uint32(b[4:8]),
		Epoch:    binary.BigEndian.Uint32(b[8:12]),
	}
	switch r.Opcode {
	case OpAnnounce:
	case OpMap:
		// An error response may omit the payload; a success may not.
		if len(b) >= MapMessageLen {
			r.HasMap, r.Map = true, decodeMap(b[headerLen:])
		} else if r.Result == Success {
			return Response{}, ErrShort
		}
	default:
		return Response{}, ErrOpcode
	}
	return r, nil
}

// ParseRequest decodes a request (for test servers).
func ParseRequest(b []byte) (Request, error) {
	if err := checkFrame(b); err != nil {
		return Request{}, err
	}
	if b[1]&responseBit != 0 {
		return Request{}, ErrNotRequest
	}
	r := Request{
		Opcode:     Opcode(b[1]),
		Lifetime:   binary.BigEndian.Uint32(b[4:8]),
		ClientAddr: netip.AddrFrom16([16]byte(b[8:24])).Unmap(),
	}
	switch r.Opcode {
	case OpAnnounce:
	case OpMap:
		if len(b) < MapMessageLen {
			return Request{}, ErrShort
		}
		r.Map = decodeMap(b[headerLen:])
	default:
		return Request{}, ErrOpcode
	}
	return r, nil
}
