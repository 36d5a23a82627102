package relayproto

import "unicode/utf8"

// ParseFrame decodes one post-handshake relay frame (one WebSocket binary
// message) received in direction dir on a connection speaking version v. It
// is exactly as strict as iroh's decoder for that side: the relay side
// (dir == ClientToRelay) takes only types 4, 5, 9, 10; the client side takes
// 6, 7, 8, 9, 10, 12 and Health (v1) or Status (v2).
//
// Datagram payloads alias b. A batch frame whose segment size is 0 decodes,
// as in iroh, as the single-datagram frame of the same direction.
//
// ParseFrame allocates the frame and validates every endpoint id from
// scratch (a point decompression, a few µs). A connection's receive loop
// should use a Parser, which does neither.
func ParseFrame(b []byte, v Version, dir Direction) (Frame, error) {
	return parse(b, v, dir, new(frameSlots), nil)
}

// Parser decodes relay frames without allocating (except for Health text).
// The Frame it returns points into the Parser and into b, and is only valid
// until the next call to Parse. It also caches validated endpoint ids. The
// zero value is ready to use; a Parser is not safe for concurrent use.
type Parser struct {
	slots frameSlots
	keys  keyCache
}

// Parse is ParseFrame with the Parser's reusable storage.
func (p *Parser) Parse(b []byte, v Version, dir Direction) (Frame, error) {
	return parse(b, v, dir, &p.slots, &p.keys)
}

// frameSlots holds one value of each relay frame type for parse to fill in.
type frameSlots struct {
	c2r        ClientToRelayDatagram
	c2rBatch   ClientToRelayDatagramBatch
	r2c        RelayToClientDatagram
	r2cBatch   RelayToClientDatagramBatch
	gone       EndpointGone
	ping       Ping
	pong       Pong
	health     Health
	restarting Restarting
	status     Status
}

func parse(b []byte, v Version, dir Direction, s *frameSlots, keys *keyCache) (Frame, error) {
	if v != V1 && v != V2 {
		return nil, ErrUnknownVersion
	}
	t, n, err := readFrameType(b)
	if err != nil {
		return nil, err
	}
	p := b[n:]
	if len(p) > MaxPacketSize {
		return nil, ErrFrameTooLarge
	}
	if !Allowed(t, v, dir) {
		if dir == RelayToClient && Allowed(t, otherVersion(v), dir) {
			return nil, ErrFrameNotAllowedInVersion
		}
		return nil, ErrUnexpectedFrameType
	}

	switch t {
	case TypeClientToRelayDatagram, TypeClientToRelayDatagramBatch,
		TypeRelayToClientDatagram, TypeRelayToClientDatagramBatch:
		return parseDatagram(t, p, s, keys)
	case TypeEndpointGone:
		if len(p) != EndpointIDLen {
			return nil, ErrWrongLength
		}
		s.gone.EndpointID = [EndpointIDLen]byte(p)
		if !keys.valid(&s.gone.EndpointID) {
			return nil, ErrInvalidEndpointID
		}
		return &s.gone, nil
	case TypePing:
		if len(p) != PingDataLen {
			return nil, ErrWrongLength
		}
		s.ping.Data = [PingDataLen]byte(p)
		return &s.ping, nil
	case TypePong:
		if len(p) != PingDataLen {
			return nil, ErrWrongLength
		}
		s.pong.Data = [PingDataLen]byte(p)
		return &s.pong, nil
	case TypeHealth:
		if !utf8.Valid(p) {
			return nil, ErrInvalidUTF8
		}
		s.health.Problem = string(p)
		return &s.health, nil
	case TypeRestarting:
		if len(p) != 8 {
			return nil, ErrWrongLength
		}
		s.restarting = Restarting{ReconnectInMillis: be.Uint32(p), TryForMillis: be.Uint32(p[4:])}
		return &s.restarting, nil
	case TypeStatus:
		// Bytes after the status byte are ignored, as in iroh.
		if len(p) < 1 {
			return nil, ErrTruncated
		}
		s.status.Code = StatusCode(p[0])
		return &s.status, nil
	}
	return nil, ErrUnexpectedFrameType // unreachable: Allowed covers every case above
}

// parseDatagram decodes the payload of types 4–7: id, ECN byte, segment
// size (batch types only), content. Like iroh, the id is validated before
// the rest of the length is checked, the ECN byte is masked to two bits,
// and empty content is accepted.
func parseDatagram(t FrameType, p []byte, s *frameSlots, keys *keyCache) (Frame, error) {
	if len(p) < EndpointIDLen {
		return nil, ErrTruncated
	}
	id := (*[EndpointIDLen]byte)(p)
	if !keys.valid(id) {
		return nil, ErrInvalidEndpointID
	}
	p = p[EndpointIDLen:]
	batch := t == TypeClientToRelayDatagramBatch || t == TypeRelayToClientDatagramBatch
	if len(p) < 1 || (batch && len(p) < 3) {
		return nil, ErrTruncated
	}
	ecn := ECN(p[0] & 0b11)
	p = p[1:]
	var seg uint16
	if batch {
		seg = be.Uint16(p)
		p = p[2:]
	}

	toRelay := t == TypeClientToRelayDatagram || t == TypeClientToRelayDatagramBatch
	switch {
	case toRelay && seg != 0:
		s.c2rBatch = ClientToRelayDatagramBatch{Dst: *id, ECN: ecn, SegmentSize: seg, Payload: p}
		return &s.c2rBatch, nil
	case toRelay:
		s.c2r = ClientToRelayDatagram{Dst: *id, ECN: ecn, Payload: p}
		return &s.c2r, nil
	case seg != 0:
		s.r2cBatch = RelayToClientDatagramBatch{Src: *id, ECN: ecn, SegmentSize: seg, Payload: p}
		return &s.r2cBatch, nil
	default:
		s.r2c = RelayToClientDatagram{Src: *id, ECN: ecn, Payload: p}
		return &s.r2c, nil
	}
}

// ParseHandshakeFrame decodes one handshake frame received in direction
// dir: ClientAuth at the relay; ServerChallenge, ServerConfirmsAuth or
// ServerDeniesAuth at the client. Bodies are postcard, and like postcard the
// decoder ignores bytes after a complete body. The ClientAuth key must be a
// valid Ed25519 point and its signature a 64-byte postcard byte string.
//
// (Which of the relay's frames a client expects at each step — any of them
// first, only confirm/deny after answering a challenge — is the caller's
// state machine.)
func ParseHandshakeFrame(b []byte, dir Direction) (Frame, error) {
	t, n, err := readFrameType(b)
	if err != nil {
		return nil, err
	}
	if !AllowedInHandshake(t, dir) {
		return nil, ErrUnexpectedFrameType
	}
	p := b[n:]
	switch t {
	case TypeServerChallenge:
		if len(p) < ChallengeLen {
			return nil, ErrTruncated
		}
		return &ServerChallenge{Challenge: [ChallengeLen]byte(p)}, nil
	case TypeClientAuth:
		f := new(ClientAuth)
		if _, err := readKeyAndSignature(p, &f.PublicKey, &f.Signature); err != nil {
			return nil, err
		}
		return f, nil
	case TypeServerConfirmsAuth:
		return &ServerConfirmsAuth{}, nil
	case TypeServerDeniesAuth:
		reason, _, err := readPostcardBytes(p)
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(reason) {
			return nil, ErrInvalidUTF8
		}
		return &ServerDeniesAuth{Reason: string(reason)}, nil
	}
	return nil, ErrUnexpectedFrameType // unreachable
}

// readKeyAndSignature decodes the postcard prefix shared by ClientAuth and
// the keying-material auth: a 32-byte public key (must be a valid point),
// then the signature as a byte string of exactly 64 bytes.
func readKeyAndSignature(p []byte, key *[EndpointIDLen]byte, sig *[SignatureLen]byte) (int, error) {
	if len(p) < EndpointIDLen {
		return 0, ErrTruncated
	}
	*key = [EndpointIDLen]byte(p)
	if !ValidEndpointID(key) {
		return 0, ErrInvalidEndpointID
	}
	l, n, err := readPostcardVarint(p[EndpointIDLen:])
	if err != nil {
		return 0, err
	}
	if l != SignatureLen {
		return 0, ErrBadSignatureLength
	}
	off := EndpointIDLen + n
	if len(p)-off < SignatureLen {
		return 0, ErrTruncated
	}
	*sig = [SignatureLen]byte(p[off:])
	return off + SignatureLen, nil
}
