package relayproto

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
)

var (
	vectorsOnce sync.Once
	vectorsMap  map[string]string
)

// vector returns the raw text of a named golden vector from testdata.
func vectorText(t testing.TB, name string) string {
	t.Helper()
	vectorsOnce.Do(func() {
		vectorsMap = map[string]string{}
		f, err := os.Open("testdata/vectors.txt")
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, _ := strings.Cut(line, " ")
			vectorsMap[k] = v
		}
	})
	v, ok := vectorsMap[name]
	if !ok {
		t.Fatalf("no vector %q in testdata/vectors.txt", name)
	}
	return v
}

func vectorBytes(t testing.TB, name string) []byte {
	t.Helper()
	b, err := hex.DecodeString(vectorText(t, name))
	if err != nil {
		t.Fatalf("vector %s: %v", name, err)
	}
	return b
}

// k1 is the spec's test key: Ed25519 seed = 32 × 0x2a.
func k1(t testing.TB) (ed25519.PrivateKey, [EndpointIDLen]byte) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x2a}, 32))
	pub := [EndpointIDLen]byte(priv.Public().(ed25519.PublicKey))
	if want := vectorBytes(t, "k1_public"); !bytes.Equal(pub[:], want) {
		t.Fatalf("K1 public = %x, want %x", pub, want)
	}
	return priv, pub
}

func signer(priv ed25519.PrivateKey) SignFunc {
	return func(m []byte) []byte { return ed25519.Sign(priv, m) }
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestRelayFrameVectors(t *testing.T) {
	_, id := k1(t)
	hello := []byte("Hello World!")
	ping := [8]byte(bytes.Repeat([]byte{0x2a}, 8))
	cases := []struct {
		vector string
		frame  Frame
		dir    Direction
		vers   []Version
	}{
		{"ping", &Ping{Data: ping}, ClientToRelay, []Version{V1, V2}},
		{"ping", &Ping{Data: ping}, RelayToClient, []Version{V1, V2}},
		{"pong", &Pong{Data: ping}, ClientToRelay, []Version{V1, V2}},
		{"pong", &Pong{Data: ping}, RelayToClient, []Version{V1, V2}},
		{"endpoint_gone", &EndpointGone{EndpointID: id}, RelayToClient, []Version{V1, V2}},
		{"c2r_datagram_ce_hello", &ClientToRelayDatagram{Dst: id, ECN: CE, Payload: hello}, ClientToRelay, []Version{V1, V2}},
		{"c2r_batch_ce_seg6_hello", &ClientToRelayDatagramBatch{Dst: id, ECN: CE, SegmentSize: 6, Payload: hello}, ClientToRelay, []Version{V1, V2}},
		{"r2c_datagram_ce_hello", &RelayToClientDatagram{Src: id, ECN: CE, Payload: hello}, RelayToClient, []Version{V1, V2}},
		{"r2c_batch_ce_seg6_hello", &RelayToClientDatagramBatch{Src: id, ECN: CE, SegmentSize: 6, Payload: hello}, RelayToClient, []Version{V1, V2}},
		{"restarting_10_20", &Restarting{ReconnectInMillis: 10, TryForMillis: 20}, RelayToClient, []Version{V1, V2}},
		{"status_healthy", &Status{Code: StatusHealthy}, RelayToClient, []Version{V2}},
		{"status_same_endpoint", &Status{Code: StatusSameEndpointIDConnected}, RelayToClient, []Version{V2}},
		{"status_rate_limited", &Status{Code: StatusRateLimited}, RelayToClient, []Version{V2}},
		{"health_v1_dog", &Health{Problem: "Hello? Yes this is dog."}, RelayToClient, []Version{V1}},
	}
	for _, c := range cases {
		want := vectorBytes(t, c.vector)
		got, err := AppendFrame(nil, c.frame)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: encode = %x, %v; want %x", c.vector, got, err, want)
		}
		if n := c.frame.EncodedLen(); n != len(want) {
			t.Errorf("%s: EncodedLen = %d, want %d", c.vector, n, len(want))
		}
		for _, v := range c.vers {
			if _, err := AppendFrameFor(nil, c.frame, v, c.dir); err != nil {
				t.Errorf("%s: AppendFrameFor(%v, %v): %v", c.vector, v, c.dir, err)
			}
			f, err := ParseFrame(want, v, c.dir)
			if err != nil {
				t.Errorf("%s: ParseFrame(%v, %v): %v", c.vector, v, c.dir, err)
				continue
			}
			if !reflect.DeepEqual(f, c.frame) {
				t.Errorf("%s: ParseFrame(%v, %v) = %#v, want %#v", c.vector, v, c.dir, f, c.frame)
			}
			var p Parser
			if f, err := p.Parse(want, v, c.dir); err != nil || !reflect.DeepEqual(f, c.frame) {
				t.Errorf("%s: Parser.Parse(%v, %v) = %#v, %v", c.vector, v, c.dir, f, err)
			}
		}
	}
}

func TestHandshakeVectors(t *testing.T) {
	priv, pub := k1(t)
	challenge := [ChallengeLen]byte(seq(16))

	sc := &ServerChallenge{Challenge: challenge}
	checkHandshakeVector(t, "server_challenge_00_0f", sc, RelayToClient)

	msg := ChallengeMessage(challenge)
	if want := vectorBytes(t, "challenge_message_00_0f"); !bytes.Equal(msg[:], want) {
		t.Errorf("ChallengeMessage = %x, want %x", msg, want)
	}

	auth, err := SignChallenge(signer(priv), pub, challenge)
	if err != nil {
		t.Fatal(err)
	}
	checkHandshakeVector(t, "client_auth_k1_00_0f", auth, ClientToRelay)
	if n := auth.EncodedLen(); n != 98 {
		t.Errorf("ClientAuth EncodedLen = %d, want 98", n)
	}
	if err := VerifyClientAuth(auth, challenge); err != nil {
		t.Errorf("VerifyClientAuth: %v", err)
	}

	checkHandshakeVector(t, "server_confirms_auth", &ServerConfirmsAuth{}, RelayToClient)
	checkHandshakeVector(t, "server_denies_signature_invalid", &ServerDeniesAuth{Reason: DenyReasonSignatureInvalid}, RelayToClient)
}

func checkHandshakeVector(t *testing.T, name string, f Frame, dir Direction) {
	t.Helper()
	want := vectorBytes(t, name)
	got, err := AppendFrame(nil, f)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("%s: encode = %x, %v; want %x", name, got, err, want)
	}
	if n := f.EncodedLen(); n != len(want) {
		t.Errorf("%s: EncodedLen = %d, want %d", name, n, len(want))
	}
	back, err := ParseHandshakeFrame(want, dir)
	if err != nil || !reflect.DeepEqual(back, f) {
		t.Errorf("%s: ParseHandshakeFrame = %#v, %v; want %#v", name, back, err, f)
	}
}

func TestKeyingMaterialVector(t *testing.T) {
	priv, pub := k1(t)
	ekm := seq(KeyingMaterialLen)
	want := vectorText(t, "keying_material_header_00_1f")
	if len(want) != 151 {
		t.Fatalf("vector length %d, want 151", len(want))
	}

	export := func(label string, context []byte, length int) ([]byte, error) {
		if label != KeyingMaterialLabel || !bytes.Equal(context, pub[:]) || length != KeyingMaterialLen {
			t.Errorf("export(%q, %x, %d): unexpected arguments", label, context, length)
		}
		return ekm, nil
	}
	got, err := KeyingMaterialHeader(signer(priv), pub, export)
	if err != nil || got != want {
		t.Fatalf("KeyingMaterialHeader = %q, %v; want %q", got, err, want)
	}

	a, err := ParseKeyMaterialHeader(want)
	if err != nil {
		t.Fatal(err)
	}
	if a.PublicKey != pub || !bytes.Equal(a.Suffix[:], ekm[16:]) {
		t.Errorf("parsed header = %+v", a)
	}
	if !ed25519.Verify(pub[:], ekm[:16], a.Signature[:]) {
		t.Error("header signature is not over the first 16 exporter bytes")
	}
	id, err := VerifyKeyingMaterialHeader(want, export)
	if err != nil || id != pub {
		t.Errorf("VerifyKeyingMaterialHeader = %x, %v", id, err)
	}
}
