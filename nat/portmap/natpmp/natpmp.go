package natpmp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Protocol constants from RFC 6886.
const (
	Port    = 5351 // the gateway's UDP port
	Version = 0

	addrResponseLen = 12
	mapResponseLen  = 16
	mapRequestLen   = 12
	// MaxMessage is the longest NAT-PMP message (a mapping response).
	MaxMessage  = mapResponseLen
	responseBit = 0x80
)

// Opcode is a NAT-PMP operation.
type Opcode uint8

// Opcodes.
const (
	OpExternalAddress Opcode = 0
	OpMapUDP          Opcode = 1
	OpMapTCP          Opcode = 2
)

// ResultCode is a response's result (RFC 6886 section 3.5).
type ResultCode uint16

// Result codes.
const (
	Success            ResultCode = 0
	UnsupportedVersion ResultCode = 1
	NotAuthorized      ResultCode = 2
	NetworkFailure     ResultCode = 3
	OutOfResources     ResultCode = 4
	UnsupportedOpcode  ResultCode = 5
)

var resultNames = [...]string{"success", "unsupported version", "not authorized or refused",
	"network failure", "out of resources", "unsupported opcode"}

func (c ResultCode) String() string {
	if int(c) < len(resultNames) {
		return resultNames[c]
	}
	return fmt.Sprintf("result(%d)", uint16(c))
}

// Decoding errors.
var (
	ErrLength      = errors.New("natpmp: wrong message length")
	ErrVersion     = errors.New("natpmp: not a version 0 message")
	ErrNotResponse = errors.New("natpmp: not a response")
	ErrNotRequest  = errors.New("natpmp: not a request")
	ErrOpcode      = errors.New("natpmp: unknown opcode")
)

// Request is a client request. For OpExternalAddress only Opcode matters.
type Request struct {
	Opcode        Opcode
	InternalPort  uint16
	SuggestedPort uint16 // 0: no preference (and required when deleting)
	Lifetime      uint32 // seconds; 0 deletes the mapping
}

// Response is a gateway response. Which fields are set depends on Opcode;
// an error response may carry only the header and epoch.
type Response struct {
	Opcode       Opcode // the request's opcode (the response bit removed)
	Result       ResultCode
	Epoch        uint32
	ExternalAddr netip.Addr // OpExternalAddress
	InternalPort uint16     // mapping opcodes
	ExternalPort uint16
	Lifetime     uint32
}

// Append appends the encoded request to b.
func (r Request) Append(b []byte) []byte {
	b = append(b, Version, byte(r.Opcode))
	if r.Opcode == OpExternalAddress {
		return b
	}
	b = append(b, 0, 0)
	b = binary.BigEndian.AppendUint16(b, r.InternalPort)
	b = binary.BigEndian.AppendUint16(b, r.SuggestedPort)
	return binary.BigEndian.AppendUint32(b, r.Lifetime)
}

// Append appends the encoded response to b (for test servers).
func (r Response) Append(b []byte) []byte {
	b = append(b, Version, byte(r.Opcode)|responseBit)
	b = binary.BigEndian.AppendUint16(b, uint16(r.Result))
	b = binary.BigEndian.AppendUint32(b, r.Epoch)
	if r.Opcode == OpExternalAddress {
		a := r.ExternalAddr
		if !a.Is4() {
			a = netip.IPv4Unspecified()
		}
		s := a.As4()
		return append(b, s[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, r.InternalPort)
	b = binary.BigEndian.AppendUint16(b, r.ExternalPort)
	return binary.BigEndian.AppendUint32(b, r.Lifetime)
}

// ParseResponse decodes a response. An error result code is not a decoding
// error: check Result.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 8 || len(b) > MaxMessage {
		return Response{}, ErrLength
	}
	if b[0] != Version {
		return Response{}, ErrVersion
	}
	if b[1]&responseBit == 0 {
		return Response{}, ErrNotResponse
	}
	r := Response{
		Opcode: Opcode(b[1] &^ responseBit),
		Result: ResultCode(binary.BigEndian.Uint16(b[2:4])),
		Epoch:  binary.BigEndian.Uint32(b[4:8]),
	}
	want := mapResponseLen
	switch r.Opcode {
	case OpExternalAddress:
		want = addrResponseLen
	case OpMapUDP, OpMapTCP:
	default:
		return Response{}, ErrOpcode
	}
	if len(b) == 8 && r.Result != Success {
		return r, nil // an error with no body
	}
	if len(b) != want {
		return Response{}, ErrLength
	}
	if r.Opcode == OpExternalAddress {
		r.ExternalAddr = netip.AddrFrom4([4]byte(b[8:12]))
		return r, nil
	}
	r.InternalPort = binary.BigEndian.Uint16(b[8:10])
	r.ExternalPort = binary.BigEndian.Uint16(b[10:12])
	r.Lifetime = binary.BigEndian.Uint32(b[12:16])
	return r, nil
}

// ParseRequest decodes a request (for test servers).
func ParseRequest(b []byte) (Request, error) {
	if len(b) < 2 {
		return Request{}, ErrLength
	}
	if b[0] != Version {
		return Request{}, ErrVersion
	}
	r := Request{Opcode: Opcode(b[1])}
	switch {
	case b[1]&responseBit != 0:
		return Request{}, ErrNotRequest
	case r.Opcode == OpExternalAddress:
		if len(b) != 2 {
			return Request{}, ErrLength
		}
		return r, nil
	case r.Opcode != OpMapUDP && r.Opcode != OpMapTCP:
		return Request{}, ErrOpcode
	case len(b) != mapRequestLen:
		return Request{}, ErrLength
	}
	r.InternalPort = binary.BigEndian.Uint16(b[4:6])
	r.SuggestedPort = binary.BigEndian.Uint16(b[6:8])
	r.Lifetime = binary.BigEndian.Uint32(b[8:12])
	return r, nil
}
