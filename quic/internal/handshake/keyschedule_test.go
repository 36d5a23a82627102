package handshake

import (
	"crypto/ed25519"
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeyScheduleRFC8448 checks the key schedule against the RFC 8448 §3
// "Simple 1-RTT Handshake" trace (TLS_AES_128_GCM_SHA256).
func TestKeyScheduleRFC8448(t *testing.T) {
	s := cipherSuiteByID(TLS_AES_128_GCM_SHA256)
	check := func(name string, got []byte, want string) {
		t.Helper()
		if hex.EncodeToString(got) != want {
			t.Errorf("%s:\n got %x\nwant %s", name, got, want)
		}
	}
	ecdhe := unhex(t, "8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d")
	helloHash := unhex(t, "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8")
	serverFinHash := unhex(t, "9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13")
	clientFinHash := unhex(t, "209145a96ee8e2a122ff810047cc952684658d6049e86429426db87c54ad143d")

	early := s.earlySecret(nil)
	check("early secret", early, "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
	check("derived", s.deriveSecret(early, "derived", nil), "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba")
	hs := s.handshakeSecret(early, ecdhe)
	check("handshake secret", hs, "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac")
	cHS := s.deriveSecret(hs, labelClientHandshake, helloHash)
	sHS := s.deriveSecret(hs, labelServerHandshake, helloHash)
	check("client hs traffic", cHS, "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21")
	check("server hs traffic", sHS, "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
	// Traffic key derivation is the QUIC layer's job, but checking one key
	// here pins the secret's use with the RFC's own numbers.
	check("server hs key", s.expandLabel(sHS, "key", nil, 16), "3fce516009c21727d0f2e4e86ee403bc")
	ms := s.masterSecret(hs)
	check("master secret", ms, "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919")
	check("client ap traffic", s.deriveSecret(ms, labelClientAppTraffic, serverFinHash), "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5")
	check("server ap traffic", s.deriveSecret(ms, labelServerAppTraffic, serverFinHash), "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643")
	check("client finished", s.finishedMAC(cHS, serverFinHash), "a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61")
	res := s.deriveSecret(ms, labelResumption, clientFinHash)
	check("resumption master", res, "7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c")
	check("ticket psk", s.expandLabel(res, "resumption", []byte{0, 0}, 32), "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3")
	check("exporter master", s.deriveSecret(ms, labelExporter, serverFinHash), "fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50")
}

func TestVerifyStrictRejectsSmallOrder(t *testing.T) {
	k := testKey(4)
	msg := []byte("hello")
	sig := ed25519.Sign(k, msg)
	if !verifyStrict(pub(k), msg, sig) {
		t.Fatal("valid signature rejected")
	}
	identity := make([]byte, 32)
	identity[0] = 1 // the neutral element, order 1
	if verifyStrict(identity, msg, sig) {
		t.Error("small-order key accepted")
	}
	bad := append(append([]byte{}, identity...), sig[32:]...)
	if verifyStrict(pub(k), msg, bad) {
		t.Error("small-order R accepted")
	}
}
