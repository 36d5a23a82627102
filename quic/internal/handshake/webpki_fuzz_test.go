package handshake

import (
	"errors"
	"testing"
)

// FuzzWebPKIServerAuth feeds a WebPKI client arbitrary Certificate and
// CertificateVerify bodies: chain verification and signature checks must
// fail with an alert, never panic, and never accept a chain our test CA
// did not issue.
func FuzzWebPKIServerAuth(f *testing.F) {
	p := getPKI(f)
	key := leafKeys(f)["ecdsa-p256"]
	chain := p.leaf(f, key, "relay.test")
	f.Add((&certificateMsg{entries: chain}).marshal()[4:], (&certificateVerifyMsg{scheme: sigECDSAP256SHA256, signature: []byte{0x30, 0}}).marshal()[4:])
	f.Add((&certificateMsg{entries: chain[:1]}).marshal()[4:], []byte{0x08, 0x04, 0x00, 0x01, 0xff})
	f.Add((&certificateMsg{entries: [][]byte{{0x30, 0x03, 0x02, 0x01, 0x01}}}).marshal()[4:], []byte{0x08, 0x07, 0x00, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, certBody, cvBody []byte) {
		c, err := NewClient(webPKIClient(50, p.roots))
		if err != nil {
			t.Fatal(err)
		}
		c.suite = cipherSuiteByID(TLS_AES_128_GCM_SHA256)
		var cm certificateMsg
		if cm.unmarshal(certBody) != nil || len(cm.entries) == 0 {
			return
		}
		if err := c.verifyServerChain(cm.entries); err != nil {
			var ae *AlertError
			if !errors.As(err, &ae) {
				t.Fatalf("chain error %T %v", err, err)
			}
			return
		}
		if string(cm.entries[0]) != string(chain[0]) {
			t.Fatal("accepted a leaf the test CA did not issue")
		}
		if err := c.verifyPeerSignature(cvBody, serverSignatureContext); err == nil {
			t.Fatal("accepted a forged CertificateVerify")
		}
	})
}
