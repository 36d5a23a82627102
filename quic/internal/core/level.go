package core

import (
	"github.com/alkdev/irohspoke/quic/internal/handshake"
	"github.com/alkdev/irohspoke/quic/internal/recovery"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// level is an encryption level together with its packet-number space
// (RFC 9000 §12.3). We never use 0-RTT, so there are three, in the order
// of recovery's spaces.
type level uint8

const (
	levelInitial level = iota
	levelHandshake
	levelApp // 1-RTT
	numLevels
)

// handshakeLevels counts the levels before 1-RTT: they have long headers
// and levelKeys.
const handshakeLevels = levelApp

func (l level) String() string {
	return [...]string{"Initial", "Handshake", "1-RTT", "invalid"}[min(l, numLevels)]
}

// space is the level's packet-number space.
func (l level) space() recovery.Space { return recovery.Space(l) }

// tls is the handshake engine's name for the level.
func (l level) tls() handshake.Level {
	return [...]handshake.Level{handshake.LevelInitial, handshake.LevelHandshake, handshake.LevelApplication}[l]
}

// longType is the long-header packet type of Initial and Handshake.
func (l level) longType() wire.PacketType {
	if l == levelInitial {
		return wire.PacketInitial
	}
	return wire.PacketHandshake
}

// levelOfTLS maps a handshake engine level; 0-RTT never occurs.
func levelOfTLS(l handshake.Level) level {
	switch l {
	case handshake.LevelInitial:
		return levelInitial
	case handshake.LevelHandshake:
		return levelHandshake
	}
	return levelApp
}

// levelOfPacket is the level a packet type is protected at.
func levelOfPacket(t wire.PacketType) level {
	switch t {
	case wire.PacketInitial:
		return levelInitial
	case wire.PacketHandshake:
		return levelHandshake
	}
	return levelApp
}

// levelOfSpace maps a recovery space back to its level.
func levelOfSpace(s recovery.Space) level { return level(s) }
