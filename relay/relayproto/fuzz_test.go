package relayproto

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

var fuzzVectors = []string{
	"ping", "pong", "endpoint_gone", "c2r_datagram_ce_hello", "c2r_batch_ce_seg6_hello",
	"r2c_datagram_ce_hello", "r2c_batch_ce_seg6_hello", "restarting_10_20", "status_healthy",
	"status_same_endpoint", "status_rate_limited", "health_v1_dog", "server_challenge_00_0f",
	"client_auth_k1_00_0f", "server_confirms_auth", "server_denies_signature_invalid",
}

func FuzzParseFrame(f *testing.F) {
	for _, name := range fuzzVectors {
		f.Add(vectorBytes(f, name))
	}
	k := vectorBytes(f, "k1_public")
	f.Add(cat([]byte{0x40, 5}, k, []byte{0xff, 0, 0, 1}))
	f.Add(cat([]byte{7}, k, []byte{0x06, 0, 0, 1, 2}))
	f.Add(cat([]byte{4}, invalidID[:], []byte{0}))
	f.Add([]byte{13, 9, 9})
	f.Add([]byte{0x0e})

	var p Parser
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range []Version{V1, V2} {
			for _, dir := range []Direction{ClientToRelay, RelayToClient} {
				fr, err := ParseFrame(data, v, dir)
				fr2, err2 := p.Parse(data, v, dir)
				if !errors.Is(err2, err) || !reflect.DeepEqual(fr, fr2) {
					t.Fatalf("ParseFrame and Parser disagree: %#v, %v vs %#v, %v", fr, err, fr2, err2)
				}
				if err != nil {
					continue
				}
				if !Allowed(fr.Type(), v, dir) {
					t.Fatalf("parsed %v which is not allowed in %v %v", fr.Type(), v, dir)
				}
				checkReencode(t, data, fr, v, dir)
			}
		}
		for _, dir := range []Direction{ClientToRelay, RelayToClient} {
			fr, err := ParseHandshakeFrame(data, dir)
			if err != nil {
				continue
			}
			if !AllowedInHandshake(fr.Type(), dir) {
				t.Fatalf("parsed handshake %v not allowed %v", fr.Type(), dir)
			}
			enc, err := fr.Append(nil)
			if err != nil {
				t.Fatalf("re-encoding %#v: %v", fr, err)
			}
			// Postcard ignores trailing bytes and tolerates long varints, so
			// the canonical encoding is never longer than the input.
			if len(enc) > len(data) || len(enc) != fr.EncodedLen() {
				t.Fatalf("handshake re-encoding %x of %x", enc, data)
			}
			back, err := ParseHandshakeFrame(enc, dir)
			if err != nil || !reflect.DeepEqual(back, fr) {
				t.Fatalf("handshake round trip: %#v, %v; want %#v", back, err, fr)
			}
		}
	})
}

// checkReencode asserts that re-encoding a parsed relay frame gives the
// input bytes back, up to the normalisations iroh's decoder applies: a
// minimal type varint, ECN masked to two bits, segment size 0 meaning a
// single datagram, and bytes after the Status byte dropped.
func checkReencode(t *testing.T, data []byte, fr Frame, v Version, dir Direction) {
	t.Helper()
	t0, n, _ := readFrameType(data)
	body := bytes.Clone(data[n:])
	emptyDatagram := false
	switch fr.(type) {
	case *ClientToRelayDatagram, *RelayToClientDatagram, *ClientToRelayDatagramBatch, *RelayToClientDatagramBatch:
		body[EndpointIDLen] &= 0b11
		if t0 != fr.Type() { // a batch with segment size 0
			body = append(body[:EndpointIDLen+1], body[EndpointIDLen+3:]...)
		}
		emptyDatagram = len(body) == EndpointIDLen+1 || (isBatch(fr) && len(body) == EndpointIDLen+3)
	case *Status:
		body = body[:1]
	}
	want := append([]byte{byte(fr.Type())}, body...)

	enc, err := AppendFrameFor(nil, fr, v, dir)
	if emptyDatagram {
		if !errors.Is(err, ErrEmptyDatagram) {
			t.Fatalf("empty datagram re-encoded: %x, %v", enc, err)
		}
		return
	}
	if err != nil || !bytes.Equal(enc, want) {
		t.Fatalf("re-encoding %#v = %x, %v; want %x", fr, enc, err, want)
	}
	if fr.EncodedLen() != len(enc) {
		t.Fatalf("EncodedLen %d, encoded %d", fr.EncodedLen(), len(enc))
	}
}

func isBatch(fr Frame) bool {
	t := fr.Type()
	return t == TypeClientToRelayDatagramBatch || t == TypeRelayToClientDatagramBatch
}

func FuzzClientAuth(f *testing.F) {
	f.Add(vectorBytes(f, "client_auth_k1_00_0f"), seq(16))
	f.Add(cat([]byte{1}, vectorBytes(f, "k1_public"), []byte{0xc0, 0x00}, make([]byte, 64)), make([]byte, 16))
	f.Add([]byte{1, 0}, []byte{})
	priv, pub := k1(f)

	f.Fuzz(func(t *testing.T, frame, challenge []byte) {
		var ch [ChallengeLen]byte
		copy(ch[:], challenge)

		// Arbitrary frames: parse must not panic; a parsed auth re-encodes
		// canonically and verifies or fails cleanly.
		if fr, err := ParseHandshakeFrame(frame, ClientToRelay); err == nil {
			auth := fr.(*ClientAuth)
			enc, err := auth.Append(nil)
			if err != nil || len(enc) != clientAuthFrameLen {
				t.Fatalf("re-encode: %x, %v", enc, err)
			}
			if back, err := ParseHandshakeFrame(enc, ClientToRelay); err != nil || *back.(*ClientAuth) != *auth {
				t.Fatalf("round trip: %v", err)
			}
			if err := VerifyClientAuth(auth, ch); err != nil && !errors.Is(err, ErrSignatureInvalid) {
				t.Fatalf("verify error %v", err)
			}
		}

		// A genuine answer always verifies, and never for another challenge.
		auth, err := SignChallenge(signer(priv), pub, ch)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyClientAuth(auth, ch); err != nil {
			t.Fatalf("genuine auth rejected: %v", err)
		}
		other := ch
		other[len(challenge)%ChallengeLen] ^= 0x80
		if err := VerifyClientAuth(auth, other); !errors.Is(err, ErrSignatureInvalid) {
			t.Fatalf("auth accepted for another challenge: %v", err)
		}
	})
}

func FuzzKeyingMaterialHeader(f *testing.F) {
	good := vectorText(f, "keying_material_header_00_1f")
	f.Add(good)
	f.Add(good + "AA")
	f.Add(good[:100])
	f.Add("")
	f.Add(good[:10] + "\n" + good[10:])
	ekm := seq(KeyingMaterialLen)

	f.Fuzz(func(t *testing.T, value string) {
		a, err := ParseKeyMaterialHeader(value)
		if err != nil {
			if a != nil {
				t.Fatal("non-nil auth with error")
			}
			return
		}
		canon := a.HeaderValue()
		if len(canon) != 151 || len(canon) > len(value) {
			t.Fatalf("canonical header %q from %q", canon, value)
		}
		if len(value) == 151 && canon != value {
			t.Fatalf("151-char header %q re-encoded as %q", value, canon)
		}
		back, err := ParseKeyMaterialHeader(canon)
		if err != nil || *back != *a {
			t.Fatalf("round trip: %v", err)
		}
		switch err := a.Verify(ekm); {
		case err == nil, errors.Is(err, ErrKeyingMaterialMismatch), errors.Is(err, ErrSignatureInvalid):
		default:
			t.Fatalf("verify error %v", err)
		}
	})
}
