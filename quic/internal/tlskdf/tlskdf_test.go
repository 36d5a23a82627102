package tlskdf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// RFC 9001 Appendix A.1: client Initial secrets for DCID 8394c8f03e515708.
func TestInitialSecretsRFC9001(t *testing.T) {
	salt, _ := hex.DecodeString("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")
	dcid, _ := hex.DecodeString("8394c8f03e515708")
	initial := Extract(sha256.New, dcid, salt)
	client := ExpandLabel(sha256.New, initial, "client in", nil, 32)
	want, _ := hex.DecodeString("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea")
	if !bytes.Equal(client, want) {
		t.Fatalf("client initial secret %x, want %x", client, want)
	}
	key := ExpandLabel(sha256.New, client, "quic key", nil, 16)
	if hex.EncodeToString(key) != "1f369613dd76d5467730efcbe3b1a22d" {
		t.Fatalf("quic key %x", key)
	}
}
