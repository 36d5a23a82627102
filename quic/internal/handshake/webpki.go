package handshake

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
)

// ModeWebPKI is ordinary TLS 1.3 with X.509 certificates, as iroh's relay
// QAD endpoint speaks it: the client verifies the server's chain against
// Config.Roots for Config.ServerName and sends no certificate of its own;
// the server presents Config.Certificate signed with Config.Signer and
// asks for no client certificate. Raw public keys are not involved.

// TLS 1.3 signature schemes (RFC 8446 §4.2.3).
const (
	sigECDSAP256SHA256 uint16 = 0x0403
	sigECDSAP384SHA384 uint16 = 0x0503
	sigECDSAP521SHA512 uint16 = 0x0603
	sigRSAPSSSHA256    uint16 = 0x0804
	sigRSAPSSSHA384    uint16 = 0x0805
	sigRSAPSSSHA512    uint16 = 0x0806
	sigRSAPKCS1SHA256  uint16 = 0x0401
	sigRSAPKCS1SHA384  uint16 = 0x0501
	sigRSAPKCS1SHA512  uint16 = 0x0601
)

// webPKISchemes is what a WebPKI client offers, in rustls' order. The
// PKCS#1 schemes are only for signatures inside certificates (Let's
// Encrypt's RSA intermediates); TLS 1.3 forbids them in CertificateVerify.
var webPKISchemes = []uint16{
	sigECDSAP384SHA384, sigECDSAP256SHA256, sigECDSAP521SHA512, sigEd25519,
	sigRSAPSSSHA512, sigRSAPSSSHA384, sigRSAPSSSHA256,
	sigRSAPKCS1SHA512, sigRSAPKCS1SHA384, sigRSAPKCS1SHA256,
}

// Alerts for certificate verification failures, as rustls sends them.
const (
	alertCertificateExpired uint8 = 45
	alertCertificateUnknown uint8 = 46
)

// ErrUnsupportedKey: the WebPKI server key is not ECDSA, RSA or Ed25519.
var ErrUnsupportedKey = errors.New("handshake: unsupported certificate key type")

// checkWebPKIConfig validates the WebPKI-specific fields in newConn.
func checkWebPKIConfig(cfg *Config, isClient bool) error {
	if isClient {
		if cfg.ServerName == "" {
			return errors.Join(ErrInvalidConfig, errors.New("WebPKI client needs ServerName"))
		}
		return nil
	}
	if len(cfg.Certificate) == 0 || cfg.Signer == nil {
		return errors.Join(ErrInvalidConfig, errors.New("WebPKI server needs Certificate and Signer"))
	}
	if _, err := schemesForKey(cfg.Signer.Public()); err != nil {
		return errors.Join(ErrInvalidConfig, err)
	}
	return nil
}

// schemesForKey lists the CertificateVerify schemes a key can produce.
func schemesForKey(pub crypto.PublicKey) ([]uint16, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return []uint16{sigECDSAP256SHA256}, nil
		case elliptic.P384():
			return []uint16{sigECDSAP384SHA384}, nil
		case elliptic.P521():
			return []uint16{sigECDSAP521SHA512}, nil
		}
	case *rsa.PublicKey:
		return []uint16{sigRSAPSSSHA256, sigRSAPSSSHA384, sigRSAPSSSHA512}, nil
	case ed25519.PublicKey:
		return []uint16{sigEd25519}, nil
	}
	return nil, ErrUnsupportedKey
}

// selectWebPKIScheme picks, in the client's order, a scheme our key can
// sign with.
func (c *Conn) selectWebPKIScheme(offered []uint16) error {
	ours, err := schemesForKey(c.cfg.Signer.Public())
	if err != nil {
		return alertf(AlertInternalError, "%v", err)
	}
	for _, s := range offered {
		if containsUint16(ours, s) {
			c.sigScheme = s
			return nil
		}
	}
	return alertf(AlertHandshakeFailure, "client accepts no signature scheme for our key")
}

func schemeHash(scheme uint16) crypto.Hash {
	switch scheme {
	case sigECDSAP256SHA256, sigRSAPSSSHA256:
		return crypto.SHA256
	case sigECDSAP384SHA384, sigRSAPSSSHA384:
		return crypto.SHA384
	case sigECDSAP521SHA512, sigRSAPSSSHA512:
		return crypto.SHA512
	}
	return 0 // Ed25519 signs the message itself
}

// ourCertificateVerify signs the transcript with our identity key.
func (c *Conn) ourCertificateVerify(context string) ([]byte, error) {
	if c.cfg.Mode != ModeWebPKI {
		return c.certificateVerify(context), nil
	}
	msg := signedMessage(context, c.transcriptHash())
	h := schemeHash(c.sigScheme)
	var opts crypto.SignerOpts = h
	input := msg
	if h != 0 {
		d := h.New()
		d.Write(msg)
		input = d.Sum(nil)
	}
	switch c.sigScheme {
	case sigRSAPSSSHA256, sigRSAPSSSHA384, sigRSAPSSSHA512:
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
	}
	sig, err := c.cfg.Signer.Sign(c.rand, input, opts)
	if err != nil {
		return nil, alertf(AlertInternalError, "signing CertificateVerify: %v", err)
	}
	return (&certificateVerifyMsg{scheme: c.sigScheme, signature: sig}).marshal(), nil
}

// verifyServerChain checks the server's chain against the roots for the
// server name and keeps the leaf's key for CertificateVerify.
func (c *Conn) verifyServerChain(entries [][]byte) error {
	certs := make([]*x509.Certificate, len(entries))
	for i, der := range entries {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return alertf(AlertBadCertificate, "parsing certificate %d: %v", i, err)
		}
		certs[i] = cert
	}
	opts := x509.VerifyOptions{
		Roots:         c.cfg.Roots,
		DNSName:       c.cfg.ServerName,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if c.cfg.Now != nil {
		opts.CurrentTime = c.cfg.Now()
	}
	for _, cert := range certs[1:] {
		opts.Intermediates.AddCert(cert)
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return chainAlert(err)
	}
	if _, err := schemesForKey(certs[0].PublicKey); err != nil {
		return alertf(AlertUnsupportedCertificate, "%v", err)
	}
	c.peerPublic = certs[0].PublicKey
	return nil
}

// chainAlert maps a verification error to the alert rustls would send.
func chainAlert(err error) *AlertError {
	var inv x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	switch {
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		return alertf(alertCertificateExpired, "%v", err)
	case errors.As(err, &unknown):
		return alertf(AlertUnknownCA, "%v", err)
	case errors.As(err, &host):
		return alertf(AlertBadCertificate, "%v", err)
	}
	return alertf(alertCertificateUnknown, "%v", err)
}

// verifyWebPKISignature checks the server's CertificateVerify with the
// leaf key, in a scheme we offered and that fits the key.
func (c *Conn) verifyWebPKISignature(cv *certificateVerifyMsg, context string) error {
	ok, err := schemesForKey(c.peerPublic)
	if err != nil || !containsUint16(ok, cv.scheme) || !containsUint16(webPKISchemes, cv.scheme) {
		return alertf(AlertIllegalParameter, "CertificateVerify scheme %#04x does not fit the certificate key", cv.scheme)
	}
	msg := signedMessage(context, c.transcriptHash())
	h := schemeHash(cv.scheme)
	digest := msg
	if h != 0 {
		d := h.New()
		d.Write(msg)
		digest = d.Sum(nil)
	}
	valid := false
	switch k := c.peerPublic.(type) {
	case *ecdsa.PublicKey:
		valid = ecdsa.VerifyASN1(k, digest, cv.signature)
	case *rsa.PublicKey:
		valid = rsa.VerifyPSS(k, h, digest, cv.signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	case ed25519.PublicKey:
		valid = verifyStrict(k, msg, cv.signature)
	}
	if !valid {
		return alertf(AlertDecryptError, "invalid CertificateVerify signature")
	}
	return nil
}
