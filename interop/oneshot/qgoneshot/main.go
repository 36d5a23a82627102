// Command qgoneshot is the quic-go baseline of the one-shot dial
// benchmark (interop/oneshot): an echo server and a client that dials,
// sends one line, reads the echo and exits. Both use X.509 (a fresh
// self-signed Ed25519 certificate that the client pins), because quic-go
// cannot speak TLS with raw public keys.
//
//	qgoneshot server LISTEN CERTFILE   prints the bound address, serves until killed
//	qgoneshot client ADDR CERTFILE     one echo, then exit 0
package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"time"

	"github.com/quic-go/quic-go"
)

const alpn = "oneshot/1"

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: qgoneshot server|client ADDR CERTFILE")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "server":
		err = serve(os.Args[2], os.Args[3])
	case "client":
		err = oneShot(os.Args[2], os.Args[3])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "qgoneshot:", err)
		os.Exit(1)
	}
}

func oneShot(addr, certFile string) error {
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		return errors.New("no certificate in " + certFile)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, addr, &tls.Config{RootCAs: roots, ServerName: "oneshot", NextProtos: []string{alpn}}, nil)
	if err != nil {
		return err
	}
	defer conn.CloseWithError(0, "")
	st, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	msg := `{"type":"t","id":"1","payload":1}` + "\n"
	if _, err := io.WriteString(st, msg); err != nil {
		return err
	}
	st.Close()
	echo, err := io.ReadAll(st)
	if err != nil {
		return err
	}
	if string(echo) != msg {
		return fmt.Errorf("echo %q, want %q", echo, msg)
	}
	_, err = os.Stdout.Write(echo)
	return err
}

func serve(listen, certFile string) error {
	cert, err := selfSigned(certFile)
	if err != nil {
		return err
	}
	ln, err := quic.ListenAddr(listen, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{alpn}}, nil)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr())
	for {
		conn, err := ln.Accept(context.Background())
		if err != nil {
			return err
		}
		go echo(conn)
	}
}

func echo(conn *quic.Conn) {
	st, err := conn.AcceptStream(context.Background())
	if err != nil {
		return
	}
	line, err := bufio.NewReader(st).ReadString('\n')
	if err == nil {
		_, _ = io.WriteString(st, line)
	}
	st.Close()
	<-conn.Context().Done()
}

// selfSigned makes a certificate for "oneshot" and writes it to certFile.
func selfSigned(certFile string) (tls.Certificate, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), DNSNames: []string{"oneshot"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}, nil
}
