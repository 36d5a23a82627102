package protection

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/alkdev/irohspoke/quic/internal/tlskdf"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readHex(t testing.TB, name string) []byte {
	t.Helper()
	s, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return unhex(t, string(s))
}

var rfcDCID = []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}

// RFC 9001 A.1.
func TestInitialKeysA1(t *testing.T) {
	client, server := InitialSecrets(rfcDCID)
	cases := []struct {
		name            string
		secret          []byte
		wantSecret      string
		wantKey, wantIV string
		wantHP          string
	}{
		{"client", client, "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
			"1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"},
		{"server", server, "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
			"cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"},
	}
	for _, c := range cases {
		if got := hex.EncodeToString(c.secret); got != c.wantSecret {
			t.Errorf("%s secret = %s, want %s", c.name, got, c.wantSecret)
		}
		key := tlskdf.ExpandLabel(sha256.New, c.secret, "quic key", nil, 16)
		hp := tlskdf.ExpandLabel(sha256.New, c.secret, "quic hp", nil, 16)
		if hex.EncodeToString(key) != c.wantKey || hex.EncodeToString(hp) != c.wantHP {
			t.Errorf("%s key/hp = %x/%x", c.name, key, hp)
		}
		pk, err := NewPacketKeys(AES128GCMSHA256, c.secret)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(pk.iv[:]); got != c.wantIV {
			t.Errorf("%s iv = %s, want %s", c.name, got, c.wantIV)
		}
	}
}

type vector struct {
	name    string
	keys    Keys
	header  []byte // unprotected, ends with the packet number
	pnLen   int
	pn      uint64
	payload []byte
	want    []byte
}

func rfcVectors(t *testing.T) []vector {
	client, server := InitialKeys(rfcDCID)
	clientPayload := make([]byte, 1162)
	copy(clientPayload, readHex(t, "a2_client_initial_frames.hex"))
	chacha, err := NewKeys(ChaCha20Poly1305SHA256, unhex(t, "9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b"))
	if err != nil {
		t.Fatal(err)
	}
	return []vector{
		{
			name: "A.2 client Initial", keys: client, pn: 2, pnLen: 4,
			header:  unhex(t, "c300000001088394c8f03e5157080000449e00000002"),
			payload: clientPayload,
			want:    readHex(t, "a2_client_initial_protected.hex"),
		},
		{
			name: "A.3 server Initial", keys: server, pn: 1, pnLen: 2,
			header: unhex(t, "c1000000010008f067a5502a4262b50040750001"),
			payload: unhex(t, `02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739
				88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94
				0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00020304`),
			want: unhex(t, `cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a
				5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3
				dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84
				022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4
				2158407dd074ee`),
		},
		{
			name: "A.5 ChaCha20-Poly1305 short header", keys: chacha, pn: 654360564, pnLen: 3,
			header:  unhex(t, "4200bff4"),
			payload: []byte{0x01},
			want:    unhex(t, "4cfe4189655e5cd55c41f69080575d7999c25a5bfb"),
		},
	}
}

func TestRFC9001Vectors(t *testing.T) {
	for _, v := range rfcVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			pnOffset := len(v.header) - v.pnLen
			pkt := append([]byte(nil), v.header...)
			pkt = v.keys.Packet.Seal(pkt, v.header, v.payload, v.pn)
			if err := v.keys.Header.Apply(pkt, pnOffset); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pkt, v.want) {
				t.Fatalf("protected packet mismatch\n got %x\nwant %x", pkt, v.want)
			}

			// And back again, in place.
			pnLen, err := v.keys.Header.Remove(pkt, pnOffset)
			if err != nil || pnLen != v.pnLen {
				t.Fatalf("Remove = %d, %v", pnLen, err)
			}
			hdrEnd := pnOffset + pnLen
			if !bytes.Equal(pkt[:hdrEnd], v.header) {
				t.Fatalf("unprotected header %x, want %x", pkt[:hdrEnd], v.header)
			}
			pt, err := v.keys.Packet.Open(pkt[hdrEnd:hdrEnd], pkt[:hdrEnd], pkt[hdrEnd:], v.pn)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pt, v.payload) {
				t.Fatal("payload mismatch")
			}
		})
	}
}

// RFC 9001 A.4.
func TestRetryIntegrityA4(t *testing.T) {
	pkt := unhex(t, "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba")
	tag := RetryIntegrityTag(rfcDCID, pkt[:len(pkt)-RetryTagLen])
	if !bytes.Equal(tag[:], pkt[len(pkt)-RetryTagLen:]) {
		t.Fatalf("tag %x", tag)
	}
	if !VerifyRetry(rfcDCID, pkt) {
		t.Fatal("VerifyRetry rejected the RFC packet")
	}
	bad := append([]byte(nil), pkt...)
	bad[len(bad)-1] ^= 1
	if VerifyRetry(rfcDCID, bad) || VerifyRetry([]byte{1, 2, 3}, pkt) || VerifyRetry(rfcDCID, pkt[:10]) {
		t.Fatal("VerifyRetry accepted a bad packet")
	}
}

// RFC 9001 A.5 gives the next-generation secret ("quic ku").
func TestKeyUpdate(t *testing.T) {
	secret := unhex(t, "9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b")
	next := NextSecret(ChaCha20Poly1305SHA256, secret)
	if got := hex.EncodeToString(next); got != "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9" {
		t.Fatalf("next secret %s", got)
	}
	k0, _ := NewPacketKeys(ChaCha20Poly1305SHA256, secret)
	k1, err := k0.Next()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := NewPacketKeys(ChaCha20Poly1305SHA256, next)
	hdr := []byte{0x44, 1}
	ct := k1.Seal(nil, hdr, []byte("hello"), 7)
	if _, err := want.Open(nil, hdr, ct, 7); err != nil {
		t.Fatal("Next keys differ from keys of the next secret")
	}
	if _, err := k0.Open(nil, hdr, ct, 7); !errors.Is(err, ErrDecrypt) {
		t.Fatal("old keys opened a packet of the new phase")
	}
}

// The multipath nonce is iv XOR (path ID || packet number); path 0 is RFC 9001.
func TestPathNonce(t *testing.T) {
	for _, s := range []Suite{AES128GCMSHA256, AES256GCMSHA384, ChaCha20Poly1305SHA256} {
		k, err := NewPacketKeys(s, bytes.Repeat([]byte{7}, s.SecretLen()))
		if err != nil {
			t.Fatal(err)
		}
		hdr := []byte{0x40, 9, 9}
		pt := []byte("multipath payload")
		if !bytes.Equal(k.SealPath(nil, hdr, pt, 0, 5), k.Seal(nil, hdr, pt, 5)) {
			t.Fatal("path 0 differs from plain Seal")
		}
		ct := k.SealPath(nil, hdr, pt, 3, 5)
		var nonce [12]byte
		copy(nonce[:], k.iv[:])
		nonce[3] ^= 3
		nonce[11] ^= 5
		if !bytes.Equal(ct, k.aead.Seal(nil, nonce[:], pt, hdr)) {
			t.Fatalf("%x: path nonce layout wrong", s)
		}
		if got, err := k.OpenPath(nil, hdr, ct, 3, 5); err != nil || !bytes.Equal(got, pt) {
			t.Fatal("OpenPath failed")
		}
		if _, err := k.OpenPath(nil, hdr, ct, 2, 5); !errors.Is(err, ErrDecrypt) {
			t.Fatal("wrong path ID accepted")
		}
	}
}

func TestBadInputs(t *testing.T) {
	if _, err := NewPacketKeys(0x1304, make([]byte, 32)); !errors.Is(err, ErrUnknownSuite) {
		t.Error("unknown suite accepted")
	}
	if _, err := NewKeys(AES256GCMSHA384, make([]byte, 32)); !errors.Is(err, ErrSecretLen) {
		t.Error("short secret accepted")
	}
	client, _ := InitialKeys(rfcDCID)
	if _, err := client.Header.Remove(make([]byte, 20), 1); !errors.Is(err, ErrShortPacket) {
		t.Error("short packet accepted")
	}
	if _, err := client.Header.Remove(make([]byte, 40), 0); !errors.Is(err, ErrShortPacket) {
		t.Error("zero pn offset accepted")
	}
	if _, err := client.Packet.Open(nil, nil, make([]byte, 15), 0); !errors.Is(err, ErrDecrypt) {
		t.Error("ciphertext shorter than a tag accepted")
	}
}
