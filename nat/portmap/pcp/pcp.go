package pcp

import (
	"errors"
	"fmt"
)

// Protocol constants from RFC 6887.
const (
	Port       = 5351 // the server's UDP port
	Version    = 2
	MaxMessage = 1100 // bytes, requests and responses alike

	headerLen  = 24
	mapDataLen = 36
	// MapMessageLen is the length of a MAP request or response without options.
	MapMessageLen = headerLen + mapDataLen
	responseBit   = 0x80
)

// Opcode is a PCP operation.
type Opcode uint8

// The opcodes a port-mapping client uses.
const (
	OpAnnounce Opcode = 0
	OpMap      Opcode = 1
)

// IANA protocol numbers for MapData.Protocol.
const (
	ProtoTCP = 6
	ProtoUDP = 17
)

// ResultCode is a response's result (RFC 6887 section 7.4).
type ResultCode uint8

// Result codes.
const (
	Success               ResultCode = 0
	UnsuppVersion         ResultCode = 1
	NotAuthorized         ResultCode = 2
	MalformedRequest      ResultCode = 3
	UnsuppOpcode          ResultCode = 4
	UnsuppOption          ResultCode = 5
	MalformedOption       ResultCode = 6
	NetworkFailure        ResultCode = 7
	NoResources           ResultCode = 8
	UnsuppProtocol        ResultCode = 9
	UserExQuota           ResultCode = 10
	CannotProvideExternal ResultCode = 11
	AddressMismatch       ResultCode = 12
	ExcessiveRemotePeers  ResultCode = 13
)

var resultNames = [...]string{
	"SUCCESS", "UNSUPP_VERSION", "NOT_AUTHORIZED", "MALFORMED_REQUEST",
	"UNSUPP_OPCODE", "UNSUPP_OPTION", "MALFORMED_OPTION", "NETWORK_FAILURE",
	"NO_RESOURCES", "UNSUPP_PROTOCOL", "USER_EX_QUOTA",
	"CANNOT_PROVIDE_EXTERNAL", "ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS",
}

func (c ResultCode) String() string {
	if int(c) < len(resultNames) {
		return resultNames[c]
	}
	return fmt.Sprintf("result(%d)", uint8(c))
}

// Decoding errors.
var (
	ErrShort       = errors.New("pcp: message too short")
	ErrTooLong     = errors.New("pcp: message longer than 1100 bytes")
	ErrAlignment   = errors.New("pcp: message length not a multiple of 4")
	ErrVersion     = errors.New("pcp: not a version 2 message")
	ErrNotResponse = errors.New("pcp: not a response")
	ErrNotRequest  = errors.New("pcp: not a request")
	ErrOpcode      = errors.New("pcp: unknown opcode")
)
