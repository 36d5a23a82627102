package handshake

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"time"
)

// The client handshake, one method per protocol step, in order:
// sendClientHello → readServerHello (→ processHelloRetryRequest →
// readServerHello) → readEncryptedExtensions → readCertificateRequest →
// readServerCertificate → readServerCertificateVerify → readServerFinished →
// sendClientCertificate → sendClientFinished; then readNewSessionTicket.

func (c *Conn) clientHandleMessage(msg []byte) error {
	typ := msg[0]
	switch {
	case c.state == stateWaitServerHello && typ == typeServerHello:
		return c.readServerHello(msg)
	case c.state == stateWaitEncryptedExtensions && typ == typeEncryptedExtensions:
		return c.readEncryptedExtensions(msg)
	case c.state == stateWaitCertificateRequest && typ == typeCertificateRequest:
		return c.readCertificateRequest(msg)
	case (c.state == stateWaitCertificateRequest || c.state == stateWaitCertificate) && typ == typeCertificate:
		return c.readServerCertificate(msg)
	case c.state == stateWaitCertificateVerify && typ == typeCertificateVerify:
		return c.readServerCertificateVerify(msg)
	case c.state == stateWaitFinished && typ == typeFinished:
		if err := c.readServerFinished(msg); err != nil {
			return err
		}
		return c.sendClientFlight()
	case c.state == stateComplete && typ == typeNewSessionTicket:
		return c.readNewSessionTicket(msg)
	}
	return alertf(AlertUnexpectedMessage, "unexpected handshake message type %d", typ)
}

func (c *Conn) sendClientHello() error {
	random, err := readRandom(c.rand, 32)
	if err != nil {
		return err
	}
	c.clientRandom = random
	groups := c.groups()
	// Like rustls: one key share, for our most preferred group.
	share, err := generateKeyShare(groups[0], c.rand)
	if err != nil {
		return err
	}
	c.keyShares = map[CurveID]*ecdh.PrivateKey{groups[0]: share}
	hello := &clientHelloMsg{
		random:              random,
		sessionID:           nil, // QUIC: no middlebox compatibility mode
		cipherSuites:        c.cipherSuites(),
		compressionMethods:  []byte{0},
		serverName:          c.cfg.ServerName,
		alpn:                c.cfg.ALPN,
		supportedVersions:   []uint16{versionTLS13},
		supportedGroups:     groups,
		keyShares:           []keyShare{{groups[0], share.PublicKey().Bytes()}},
		signatureAlgorithms: []uint16{sigEd25519},
		pskModes:            []uint8{pskModeDHE},
		transportParameters: c.cfg.TransportParameters,
		hasTransportParams:  true,
	}
	if c.cfg.Mode == ModeWebPKI {
		hello.signatureAlgorithms = webPKISchemes
	}
	if c.cfg.Mode == ModeRawPublicKey {
		hello.clientCertTypes = []uint8{certTypeRawPublicKey}
		hello.serverCertTypes = []uint8{certTypeRawPublicKey}
	}
	c.hello = hello
	c.state = stateWaitServerHello
	c.writeMessage(LevelInitial, hello.marshal())
	return nil
}

func (c *Conn) readServerHello(msg []byte) error {
	var sh serverHelloMsg
	if err := sh.unmarshal(msg[4:]); err != nil {
		return err
	}
	if err := c.checkServerHelloCommon(&sh); err != nil {
		return err
	}
	if sh.isHRR() {
		return c.processHelloRetryRequest(&sh, msg)
	}
	if c.hrr && sh.cipherSuite != c.suite.id {
		return alertf(AlertIllegalParameter, "ServerHello suite differs from HelloRetryRequest")
	}
	if sh.hasPSK {
		return alertf(AlertIllegalParameter, "server selected a PSK we did not offer")
	}
	priv, ok := c.keyShares[sh.keyShare.group]
	if !ok {
		return alertf(AlertIllegalParameter, "server key share for group %#04x we did not send", uint16(sh.keyShare.group))
	}
	shared, err := sharedSecret(priv, sh.keyShare.data)
	if err != nil {
		return err
	}
	c.suite = cipherSuiteByID(sh.cipherSuite)
	c.group = sh.keyShare.group
	c.transcript = append(c.transcript, msg...)
	c.deriveHandshakeSecrets(shared)
	c.setWriteSecret(LevelHandshake, c.clientHS)
	c.setReadSecret(LevelHandshake, c.serverHS)
	c.state = stateWaitEncryptedExtensions
	return nil
}

// checkServerHelloCommon validates what ServerHello and HRR share.
func (c *Conn) checkServerHelloCommon(sh *serverHelloMsg) error {
	if sh.supportedVersion != versionTLS13 {
		return alertf(AlertProtocolVersion, "server did not negotiate TLS 1.3")
	}
	if !bytes.Equal(sh.sessionID, c.hello.sessionID) {
		return alertf(AlertIllegalParameter, "server did not echo legacy_session_id")
	}
	if !containsUint16(c.hello.cipherSuites, sh.cipherSuite) {
		return alertf(AlertIllegalParameter, "server chose cipher suite %#04x we did not offer", sh.cipherSuite)
	}
	return nil
}

func (c *Conn) processHelloRetryRequest(hrr *serverHelloMsg, msg []byte) error {
	if c.hrr {
		return alertf(AlertUnexpectedMessage, "second HelloRetryRequest")
	}
	c.hrr = true
	c.suite = cipherSuiteByID(hrr.cipherSuite)
	hello := *c.hello
	if hrr.selectedGroup != 0 {
		if !containsGroup(c.hello.supportedGroups, hrr.selectedGroup) {
			return alertf(AlertIllegalParameter, "HelloRetryRequest for group %#04x we do not support", uint16(hrr.selectedGroup))
		}
		if _, sent := c.keyShares[hrr.selectedGroup]; sent {
			return alertf(AlertIllegalParameter, "HelloRetryRequest for a group we already sent a share for")
		}
		share, err := generateKeyShare(hrr.selectedGroup, c.rand)
		if err != nil {
			return err
		}
		c.keyShares = map[CurveID]*ecdh.PrivateKey{hrr.selectedGroup: share}
		hello.keyShares = []keyShare{{hrr.selectedGroup, share.PublicKey().Bytes()}}
	} else if hrr.cookie == nil {
		return alertf(AlertIllegalParameter, "HelloRetryRequest would not change the ClientHello")
	}
	hello.cookie = hrr.cookie
	// RFC 8446 §4.4.1: ClientHello1 is replaced by message_hash(Hash(CH1)).
	c.transcript = append(messageHash(c.suite, c.transcript), msg...)
	c.hello = &hello
	c.writeMessage(LevelInitial, hello.marshal())
	return nil
}

func messageHash(s *cipherSuite, transcript []byte) []byte {
	h := s.transcriptHash(transcript)
	return append([]byte{typeMessageHash, 0, 0, byte(len(h))}, h...)
}

func containsGroup(list []CurveID, g CurveID) bool {
	for _, x := range list {
		if x == g {
			return true
		}
	}
	return false
}

// readEncryptedExtensions is as strict as rustls: anything we did not ask
// for is fatal, and the RPK cert types and transport parameters are required.
func (c *Conn) readEncryptedExtensions(msg []byte) error {
	var ee encryptedExtensionsMsg
	if err := ee.unmarshal(msg[4:]); err != nil {
		return err
	}
	rpk := c.cfg.Mode == ModeRawPublicKey
	for _, e := range ee.exts {
		switch e.typ {
		case extServerName:
			if c.cfg.ServerName == "" {
				return alertf(AlertUnsupportedExtension, "unsolicited server_name in EncryptedExtensions")
			}
		case extClientCertificateType, extServerCertificateType:
			if !rpk {
				return alertf(AlertUnsupportedExtension, "unsolicited certificate type extension %d", e.typ)
			}
		case extALPN, extQUICTransportParameters, extSupportedGroups:
		case extKeyShare, extSupportedVersions, extPreSharedKey, extPSKKeyExchangeModes, extCookie,
			extSignatureAlgorithms, extSignatureAlgorithmsCert, extCertificateAuthorities:
			return alertf(AlertIllegalParameter, "extension %d not allowed in EncryptedExtensions", e.typ)
		default:
			return alertf(AlertUnsupportedExtension, "unsolicited extension %d in EncryptedExtensions", e.typ)
		}
	}
	if rpk {
		if ee.clientCertType < 0 || ee.serverCertType < 0 {
			return alertf(AlertHandshakeFailure, "server did not agree to raw public keys")
		}
		if ee.clientCertType != int(certTypeRawPublicKey) || ee.serverCertType != int(certTypeRawPublicKey) {
			return alertf(AlertIllegalParameter, "server chose a certificate type we did not offer")
		}
	}
	if ee.alpn == "" {
		return alertf(AlertNoApplicationProtocol, "server selected no ALPN protocol")
	}
	if !containsString(c.cfg.ALPN, ee.alpn) {
		return alertf(AlertIllegalParameter, "server selected ALPN %q we did not offer", ee.alpn)
	}
	if !ee.hasTransportParams {
		return alertf(AlertMissingExtension, "server sent no quic_transport_parameters")
	}
	c.alpn = ee.alpn
	c.peerTP = bytes.Clone(ee.transportParameters)
	c.emit(Event{Kind: EventTransportParameters, Data: bytes.Clone(ee.transportParameters)})
	c.transcript = append(c.transcript, msg...)
	c.state = stateWaitCertificateRequest
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (c *Conn) readCertificateRequest(msg []byte) error {
	var cr certificateRequestMsg
	if err := cr.unmarshal(msg[4:]); err != nil {
		return err
	}
	if len(cr.context) != 0 {
		return alertf(AlertIllegalParameter, "non-empty certificate_request_context in handshake")
	}
	c.certRequested = true
	// Like rustls: without ed25519 in the request we answer with an empty
	// Certificate and let the server decide.
	c.sendCert = containsUint16(cr.signatureAlgorithms, sigEd25519) && c.cfg.Mode != ModeWebPKI
	c.transcript = append(c.transcript, msg...)
	c.state = stateWaitCertificate
	return nil
}

// readServerCertificate pins the server key to the dialled EndpointId
// before anything else from the server is trusted.
func (c *Conn) readServerCertificate(msg []byte) error {
	var cm certificateMsg
	if err := cm.unmarshal(msg[4:]); err != nil {
		return err
	}
	if len(cm.context) != 0 {
		return alertf(AlertIllegalParameter, "non-empty certificate_request_context from server")
	}
	if len(cm.entries) == 0 {
		return alertf(AlertDecodeError, "server sent an empty Certificate")
	}
	if c.cfg.Mode == ModeWebPKI {
		if err := c.verifyServerChain(cm.entries); err != nil {
			return err
		}
	} else {
		key, aerr := peerKeyFromCertificate(c.cfg.Mode, cm.entries, c.cfg.PeerKey)
		if aerr != nil {
			return aerr
		}
		c.peerKey = key
	}
	c.peerCerts = cloneEntries(cm.entries)
	c.transcript = append(c.transcript, msg...)
	c.state = stateWaitCertificateVerify
	return nil
}

func cloneEntries(entries [][]byte) [][]byte {
	out := make([][]byte, len(entries))
	for i, e := range entries {
		out[i] = bytes.Clone(e)
	}
	return out
}

func (c *Conn) readServerCertificateVerify(msg []byte) error {
	if err := c.verifyPeerSignature(msg[4:], serverSignatureContext); err != nil {
		return err
	}
	c.transcript = append(c.transcript, msg...)
	c.state = stateWaitFinished
	return nil
}

func (c *Conn) readServerFinished(msg []byte) error {
	if err := c.verifyPeerFinished(msg[4:], c.serverHS); err != nil {
		return err
	}
	c.transcript = append(c.transcript, msg...)
	c.deriveApplicationSecrets()
	return nil
}

// sendClientFlight answers the server's flight and finishes the handshake.
func (c *Conn) sendClientFlight() error {
	if c.certRequested {
		c.sendClientCertificate()
	}
	c.sendClientFinished()
	c.setWriteSecret(LevelApplication, c.clientAP)
	c.setReadSecret(LevelApplication, c.serverAP)
	c.state = stateComplete
	c.emit(Event{Kind: EventHandshakeComplete})
	return nil
}

func (c *Conn) sendClientCertificate() {
	cm := &certificateMsg{}
	if c.sendCert {
		cm.entries = c.certificate
	}
	c.writeMessage(LevelHandshake, cm.marshal())
	if c.sendCert {
		c.writeMessage(LevelHandshake, c.certificateVerify(clientSignatureContext))
	}
}

func (c *Conn) sendClientFinished() {
	c.writeMessage(LevelHandshake, c.finished(c.clientHS))
	c.resumption = c.suite.deriveSecret(c.masterSecret, labelResumption, c.transcriptHash())
}

// readNewSessionTicket stores the ticket under the server's EndpointId.
func (c *Conn) readNewSessionTicket(msg []byte) error {
	var nst newSessionTicketMsg
	if err := nst.unmarshal(msg[4:]); err != nil {
		return err
	}
	if nst.hasEarlyData && nst.maxEarlyData != 0xffffffff {
		// RFC 9001 §4.6.1.
		return alertf(AlertIllegalParameter, "QUIC ticket with max_early_data_size %#x", nst.maxEarlyData)
	}
	if store := c.cfg.SessionTickets; store != nil && len(c.peerKey) == ed25519.PublicKeySize {
		store.Add(c.State().PeerID(), SessionTicket{
			Suite:        c.suite.id,
			ALPN:         c.alpn,
			Lifetime:     time.Duration(nst.lifetime) * time.Second,
			AgeAdd:       nst.ageAdd,
			Ticket:       bytes.Clone(nst.ticket),
			MaxEarlyData: nst.maxEarlyData,
			ReceivedAt:   c.now(),
			PSK:          c.suite.expandLabel(c.resumption, "resumption", nst.nonce, c.suite.hashLen()),
		})
	}
	c.emit(Event{Kind: EventSessionTicket, Level: LevelApplication, Data: bytes.Clone(msg)})
	return nil
}
