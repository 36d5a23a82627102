package handshake

import (
	"bytes"
	"encoding/binary"
)

// The server handshake, one method per protocol step, in order:
// readClientHello (→ sendHelloRetryRequest → readClientHello) →
// sendServerHello → sendEncryptedExtensions → sendCertificateRequest →
// sendServerCertificate → sendServerCertificateVerify → sendServerFinished →
// readClientCertificate → readClientCertificateVerify → readClientFinished.

func (c *Conn) serverHandleMessage(msg []byte) error {
	typ := msg[0]
	switch {
	case c.state == stateWaitClientHello && typ == typeClientHello:
		return c.readClientHello(msg)
	case c.state == stateWaitCertificate && typ == typeCertificate:
		return c.readClientCertificate(msg)
	case c.state == stateWaitCertificateVerify && typ == typeCertificateVerify:
		return c.readClientCertificateVerify(msg)
	case c.state == stateWaitFinished && typ == typeFinished:
		return c.readClientFinished(msg)
	}
	return alertf(AlertUnexpectedMessage, "unexpected handshake message type %d", typ)
}

// negotiated is what readClientHello settles before the server flight.
type negotiated struct {
	suite     *cipherSuite
	group     CurveID
	clientKey []byte // client's key share for group; nil means HRR needed
	alpn      string
	sessionID []byte
}

func (c *Conn) readClientHello(msg []byte) error {
	var ch clientHelloMsg
	if err := ch.unmarshal(msg[4:]); err != nil {
		return err
	}
	n, err := c.negotiate(&ch)
	if err != nil {
		return err
	}
	if n.clientKey == nil {
		if c.hrr {
			return alertf(AlertIllegalParameter, "second ClientHello lacks a key share for %#04x", uint16(c.group))
		}
		return c.sendHelloRetryRequest(n, msg)
	}
	if c.hrr {
		if n.suite.id != c.suite.id {
			return alertf(AlertIllegalParameter, "second ClientHello changed the cipher suite")
		}
	} else {
		c.clientRandom = bytes.Clone(ch.random)
	}
	c.suite, c.group, c.alpn = n.suite, n.group, n.alpn
	c.offeredPSKDHE = containsUint8(ch.pskModes, pskModeDHE)
	c.transcript = append(c.transcript, msg...)
	c.peerTP = bytes.Clone(ch.transportParameters)
	c.emit(Event{Kind: EventTransportParameters, Data: bytes.Clone(ch.transportParameters)})
	if err := c.sendServerHello(n); err != nil {
		return err
	}
	c.sendEncryptedExtensions()
	if c.cfg.Mode != ModeWebPKI {
		c.sendCertificateRequest()
	}
	c.sendServerCertificate()
	cv, err := c.ourCertificateVerify(serverSignatureContext)
	if err != nil {
		return err
	}
	c.writeMessage(LevelHandshake, cv)
	c.sendServerFinished()
	return nil
}

// negotiate applies the rustls server rules (spec §3.1–3.7) to a ClientHello.
func (c *Conn) negotiate(ch *clientHelloMsg) (*negotiated, error) {
	if !containsUint16(ch.supportedVersions, versionTLS13) {
		return nil, alertf(AlertProtocolVersion, "client does not offer TLS 1.3")
	}
	if !bytes.Equal(ch.compressionMethods, []byte{0}) {
		return nil, alertf(AlertIllegalParameter, "legacy_compression_methods must be [0]")
	}
	if len(ch.sessionID) != 0 {
		return nil, alertf(AlertIllegalParameter, "QUIC ClientHello with a legacy_session_id")
	}
	n := &negotiated{sessionID: ch.sessionID}
	for _, id := range ch.cipherSuites { // the client's preference, like rustls
		if containsUint16(c.cipherSuites(), id) {
			n.suite = cipherSuiteByID(id)
			break
		}
	}
	if n.suite == nil {
		return nil, alertf(AlertHandshakeFailure, "no cipher suite in common")
	}
	if ch.signatureAlgorithms == nil {
		return nil, alertf(AlertMissingExtension, "ClientHello without signature_algorithms")
	}
	if c.cfg.Mode == ModeWebPKI {
		if err := c.selectWebPKIScheme(ch.signatureAlgorithms); err != nil {
			return nil, err
		}
	} else if !containsUint16(ch.signatureAlgorithms, sigEd25519) {
		return nil, alertf(AlertHandshakeFailure, "client does not accept ed25519 signatures")
	}
	switch c.cfg.Mode {
	case ModeRawPublicKey:
		if !containsUint8(ch.clientCertTypes, certTypeRawPublicKey) || !containsUint8(ch.serverCertTypes, certTypeRawPublicKey) {
			return nil, alertf(AlertHandshakeFailure, "client does not offer raw public keys")
		}
	case ModeX509, ModeWebPKI:
		if (ch.clientCertTypes != nil && !containsUint8(ch.clientCertTypes, certTypeX509)) ||
			(ch.serverCertTypes != nil && !containsUint8(ch.serverCertTypes, certTypeX509)) {
			return nil, alertf(AlertHandshakeFailure, "client does not offer X.509 certificates")
		}
	}
	if !ch.hasTransportParams {
		return nil, alertf(AlertMissingExtension, "client sent no quic_transport_parameters")
	}
	for _, p := range c.cfg.ALPN { // our preference, like rustls
		if containsString(ch.alpn, p) {
			n.alpn = p
			break
		}
	}
	if n.alpn == "" {
		return nil, alertf(AlertNoApplicationProtocol, "no ALPN protocol in common")
	}
	if err := c.selectGroup(ch, n); err != nil {
		return nil, err
	}
	return n, nil
}

// selectGroup takes the first group in the client's list we support; if the
// client sent no share for it, a HelloRetryRequest follows.
func (c *Conn) selectGroup(ch *clientHelloMsg, n *negotiated) error {
	if ch.supportedGroups == nil {
		return alertf(AlertHandshakeFailure, "ClientHello without supported_groups")
	}
	if !ch.hasKeyShares {
		return alertf(AlertMissingExtension, "ClientHello without key_share")
	}
	if c.hrr {
		n.group = c.group // the group we asked for
	} else {
		for _, g := range ch.supportedGroups {
			if containsGroup(c.groups(), g) {
				n.group = g
				break
			}
		}
		if n.group == 0 {
			return alertf(AlertHandshakeFailure, "no key exchange group in common")
		}
	}
	for _, ks := range ch.keyShares {
		if !containsGroup(ch.supportedGroups, ks.group) {
			return alertf(AlertIllegalParameter, "key share for group %#04x not in supported_groups", uint16(ks.group))
		}
		if ks.group == n.group && n.clientKey == nil {
			n.clientKey = ks.data
		}
	}
	return nil
}

func (c *Conn) sendHelloRetryRequest(n *negotiated, msg []byte) error {
	c.hrr = true
	c.suite, c.group = n.suite, n.group
	c.clientRandom = bytes.Clone(msg[6 : 6+32])
	hrr := &serverHelloMsg{
		random:           hrrRandom,
		sessionID:        n.sessionID,
		cipherSuite:      n.suite.id,
		supportedVersion: versionTLS13,
		selectedGroup:    n.group,
	}
	c.transcript = messageHash(c.suite, msg)
	c.writeMessage(LevelInitial, hrr.marshal())
	return nil
}

func (c *Conn) sendServerHello(n *negotiated) error {
	priv, err := generateKeyShare(n.group, c.rand)
	if err != nil {
		return err
	}
	shared, err := sharedSecret(priv, n.clientKey)
	if err != nil {
		return err
	}
	random, err := readRandom(c.rand, 32)
	if err != nil {
		return err
	}
	sh := &serverHelloMsg{
		random:           random,
		sessionID:        n.sessionID,
		cipherSuite:      n.suite.id,
		supportedVersion: versionTLS13,
		keyShare:         keyShare{n.group, priv.PublicKey().Bytes()},
	}
	c.writeMessage(LevelInitial, sh.marshal())
	c.deriveHandshakeSecrets(shared)
	c.setReadSecret(LevelHandshake, c.clientHS)
	c.setWriteSecret(LevelHandshake, c.serverHS)
	return nil
}

// sendEncryptedExtensions never echoes server_name: it is always safe,
// and iroh servers ignore SNI anyway.
func (c *Conn) sendEncryptedExtensions() {
	ee := &encryptedExtensionsMsg{
		alpn:                c.alpn,
		clientCertType:      -1,
		serverCertType:      -1,
		transportParameters: c.cfg.TransportParameters,
		hasTransportParams:  true,
	}
	if c.cfg.Mode == ModeRawPublicKey {
		ee.clientCertType = int(certTypeRawPublicKey)
		ee.serverCertType = int(certTypeRawPublicKey)
	}
	c.writeMessage(LevelHandshake, ee.marshal())
}

// sendCertificateRequest: client authentication is always mandatory.
func (c *Conn) sendCertificateRequest() {
	cr := &certificateRequestMsg{signatureAlgorithms: []uint16{sigEd25519}}
	c.writeMessage(LevelHandshake, cr.marshal())
}

func (c *Conn) sendServerCertificate() {
	c.writeMessage(LevelHandshake, (&certificateMsg{entries: c.certificate}).marshal())
}

func (c *Conn) sendServerFinished() {
	c.writeMessage(LevelHandshake, c.finished(c.serverHS))
	c.deriveApplicationSecrets()
	c.setWriteSecret(LevelApplication, c.serverAP)
	c.state = stateWaitCertificate
	if c.cfg.Mode == ModeWebPKI {
		c.state = stateWaitFinished // no client certificate requested
	}
}

func (c *Conn) readClientCertificate(msg []byte) error {
	var cm certificateMsg
	if err := cm.unmarshal(msg[4:]); err != nil {
		return err
	}
	if len(cm.context) != 0 {
		return alertf(AlertIllegalParameter, "certificate_request_context mismatch")
	}
	key, aerr := peerKeyFromCertificate(c.cfg.Mode, cm.entries, c.cfg.PeerKey)
	if aerr != nil {
		return aerr
	}
	c.peerKey = key
	c.peerCerts = cloneEntries(cm.entries)
	c.transcript = append(c.transcript, msg...)
	c.state = stateWaitCertificateVerify
	return nil
}

func (c *Conn) readClientCertificateVerify(msg []byte) error {
	if err := c.verifyPeerSignature(msg[4:], clientSignatureContext); err != nil {
		return err
	}
	c.transcript = append(c.transcript, msg...)
	c.state = stateWaitFinished
	return nil
}

func (c *Conn) readClientFinished(msg []byte) error {
	if err := c.verifyPeerFinished(msg[4:], c.clientHS); err != nil {
		return err
	}
	c.transcript = append(c.transcript, msg...)
	c.resumption = c.suite.deriveSecret(c.masterSecret, labelResumption, c.transcriptHash())
	c.setReadSecret(LevelApplication, c.clientAP)
	c.state = stateComplete
	c.emit(Event{Kind: EventHandshakeComplete})
	return nil
}

// Ticket parameters: iroh/rustls use a one-day lifetime.
const ticketLifetime = 86400

// SendSessionTicket queues a NewSessionTicket at the application level.
// The ticket is opaque random bytes: this server does not resume sessions
// yet, so a client presenting it simply gets a full handshake.
func (c *Conn) SendSessionTicket() error {
	if c.err != nil {
		return c.err
	}
	if c.isClient || c.state != stateComplete {
		return ErrNotComplete
	}
	ticket, err := readRandom(c.rand, 32)
	if err != nil {
		return c.fail(err)
	}
	ageAdd, err := readRandom(c.rand, 4)
	if err != nil {
		return c.fail(err)
	}
	nonce := binary.BigEndian.AppendUint64(nil, c.ticketNonce)
	c.ticketNonce++
	nst := &newSessionTicketMsg{
		lifetime: ticketLifetime,
		ageAdd:   binary.BigEndian.Uint32(ageAdd),
		nonce:    nonce,
		ticket:   ticket,
	}
	// Post-handshake messages are not part of the transcript.
	c.emit(Event{Kind: EventWriteData, Level: LevelApplication, Data: nst.marshal()})
	return nil
}
