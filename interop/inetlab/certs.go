//go:build linux

package inetlab

import (
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/alkdev/irohspoke/quic/qadtest"
)

// certs is the lab's certificate authority.
type certs struct {
	ca     *qadtest.CA
	dir    string
	caFile string // what SSL_CERT_FILE names
	n      int
}

func newCerts(dir string) (*certs, error) {
	ca, err := qadtest.NewCA()
	if err != nil {
		return nil, err
	}
	c := &certs{ca: ca, dir: dir, caFile: filepath.Join(dir, "lab-ca.pem")}
	// qadtest keeps its root to itself; the intermediate of any chain
	// serves as the trust anchor (Go trusts every certificate in
	// SSL_CERT_FILE as a root).
	chain, _, err := ca.Issue("ca.lab.invalid")
	if err != nil {
		return nil, err
	}
	inter := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[1]})
	return c, os.WriteFile(c.caFile, inter, 0o644)
}

// files writes a certificate for hosts and its key, for a server process.
func (c *certs) files(hosts ...string) (certFile, keyFile string, err error) {
	if len(hosts) == 0 {
		return "", "", errors.New("inetlab: certificate for no host")
	}
	c.n++
	dir := filepath.Join(c.dir, fmt.Sprintf("cert%d", c.n))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", "", err
	}
	return c.ca.WritePEM(dir, hosts...)
}

// tls is a certificate for hosts, for a server in the test process.
func (c *certs) tls(hosts ...string) (tls.Certificate, error) {
	return c.ca.TLSCertificate(hosts...)
}
