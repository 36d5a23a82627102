// Package qadtest issues throwaway X.509 certificates for tests of QUIC
// Address Discovery: a root CA and an intermediate, like a Let's Encrypt
// chain, so a QAD client can verify a test relay with ordinary WebPKI
// rules against a private root pool.
package qadtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CA is a test root with one intermediate.
type CA struct {
	Roots    *x509.CertPool
	root     *x509.Certificate
	inter    *x509.Certificate
	interKey crypto.Signer
	serial   int64
}

// NewCA creates a root (ECDSA P-384) and an intermediate (ECDSA P-256)
// valid for a day.
func NewCA() (*CA, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	interKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ca := &CA{Roots: x509.NewCertPool(), interKey: interKey, serial: 10}
	rootTmpl := caTemplate(1, "qadtest root")
	if ca.root, err = issue(rootTmpl, rootTmpl, rootKey.Public(), rootKey); err != nil {
		return nil, err
	}
	if ca.inter, err = issue(caTemplate(2, "qadtest intermediate"), ca.root, interKey.Public(), rootKey); err != nil {
		return nil, err
	}
	ca.Roots.AddCert(ca.root)
	return ca, nil
}

func caTemplate(serial int64, name string) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
}

func issue(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// Issue returns a server chain (leaf, intermediate) for hosts (DNS names
// or IP addresses) with a fresh ECDSA P-256 key.
func (ca *CA) Issue(hosts ...string) (chain [][]byte, key crypto.Signer, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	ca.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial), Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	leaf, err := issue(tmpl, ca.inter, k.Public(), ca.interKey)
	if err != nil {
		return nil, nil, err
	}
	return [][]byte{leaf.Raw, ca.inter.Raw}, k, nil
}

// TLSCertificate is Issue as a crypto/tls certificate.
func (ca *CA) TLSCertificate(hosts ...string) (tls.Certificate, error) {
	chain, key, err := ca.Issue(hosts...)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, _ := x509.ParseCertificate(chain[0])
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, nil
}

// WritePEM writes Issue's chain and key as PEM files in dir (for
// --tls-cert/--tls-key flags) and returns their paths.
func (ca *CA) WritePEM(dir string, hosts ...string) (certFile, keyFile string, err error) {
	chain, key, err := ca.Issue(hosts...)
	if err != nil {
		return "", "", err
	}
	var certPEM []byte
	for _, der := range chain {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, "qad-cert.pem"), filepath.Join(dir, "qad-key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		return "", "", err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certFile, keyFile, os.WriteFile(keyFile, keyPEM, 0o600)
}
