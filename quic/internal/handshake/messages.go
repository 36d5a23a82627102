package handshake

import (
	"bytes"
	"strconv"

	"golang.org/x/crypto/cryptobyte"
)

// Handshake message types (RFC 8446 §4).
const (
	typeClientHello         uint8 = 1
	typeServerHello         uint8 = 2
	typeNewSessionTicket    uint8 = 4
	typeEncryptedExtensions uint8 = 8
	typeCertificate         uint8 = 11
	typeCertificateRequest  uint8 = 13
	typeCertificateVerify   uint8 = 15
	typeFinished            uint8 = 20
	typeMessageHash         uint8 = 254
)

// hrrRandom marks a ServerHello as HelloRetryRequest (RFC 8446 §4.1.3).
var hrrRandom = []byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// wrapMessage adds the 4-byte handshake header.
func wrapMessage(typ uint8, body func(b *cryptobyte.Builder)) []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint8(typ)
		b.AddUint24LengthPrefixed(body)
	})
}

type keyShare struct {
	group CurveID
	data  []byte
}

// clientHelloMsg holds the fields of a ClientHello this engine cares about.
// Absent list extensions are nil; present ones are non-empty.
type clientHelloMsg struct {
	random              []byte
	sessionID           []byte
	cipherSuites        []uint16
	compressionMethods  []byte
	serverName          string
	alpn                []string
	supportedVersions   []uint16
	supportedGroups     []CurveID
	keyShares           []keyShare
	hasKeyShares        bool
	signatureAlgorithms []uint16
	sigAlgsCert         []uint16
	clientCertTypes     []uint8
	serverCertTypes     []uint8
	transportParameters []byte
	hasTransportParams  bool
	pskModes            []uint8
	cookie              []byte
	earlyData           bool
	hasPreSharedKey     bool
}

func (m *clientHelloMsg) marshal() []byte {
	var exts []extension
	add := func(typ uint16, data []byte) { exts = append(exts, extension{typ, data}) }
	if m.serverName != "" {
		add(extServerName, marshalServerName(m.serverName))
	}
	if len(m.alpn) > 0 {
		add(extALPN, marshalALPN(m.alpn))
	}
	add(extSupportedVersions, build(func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, v := range m.supportedVersions {
				b.AddUint16(v)
			}
		})
	}))
	add(extSupportedGroups, build(func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, g := range m.supportedGroups {
				b.AddUint16(uint16(g))
			}
		})
	}))
	add(extKeyShare, build(func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, ks := range m.keyShares {
				b.AddUint16(uint16(ks.group))
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ks.data) })
			}
		})
	}))
	add(extSignatureAlgorithms, build(func(b *cryptobyte.Builder) { addUint16List(b, m.signatureAlgorithms) }))
	if len(m.sigAlgsCert) > 0 {
		add(extSignatureAlgorithmsCert, build(func(b *cryptobyte.Builder) { addUint16List(b, m.sigAlgsCert) }))
	}
	if len(m.clientCertTypes) > 0 {
		add(extClientCertificateType, build(func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.clientCertTypes) })
		}))
	}
	if len(m.serverCertTypes) > 0 {
		add(extServerCertificateType, build(func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.serverCertTypes) })
		}))
	}
	if len(m.pskModes) > 0 {
		add(extPSKKeyExchangeModes, build(func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.pskModes) })
		}))
	}
	if len(m.cookie) > 0 {
		add(extCookie, build(func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.cookie) })
		}))
	}
	if m.hasTransportParams {
		add(extQUICTransportParameters, m.transportParameters)
	}
	return wrapMessage(typeClientHello, func(b *cryptobyte.Builder) {
		b.AddUint16(versionTLS12)
		b.AddBytes(m.random)
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.sessionID) })
		addUint16List(b, m.cipherSuites)
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.compressionMethods) })
		addExtensions(b, exts)
	})
}

// unmarshal parses a ClientHello body (without the 4-byte header).
func (m *clientHelloMsg) unmarshal(body []byte) error {
	*m = clientHelloMsg{}
	s := cryptobyte.String(body)
	var version uint16
	var sid, comp cryptobyte.String
	if !s.ReadUint16(&version) || !s.ReadBytes(&m.random, 32) ||
		!s.ReadUint8LengthPrefixed(&sid) || len(sid) > 32 {
		return errDecode("ClientHello")
	}
	m.sessionID = sid
	var ok bool
	if m.cipherSuites, ok = readUint16List(&s); !ok {
		return errDecode("ClientHello cipher suites")
	}
	if !s.ReadUint8LengthPrefixed(&comp) || comp.Empty() {
		return errDecode("ClientHello compression methods")
	}
	m.compressionMethods = comp
	exts, ok := readExtensions(&s)
	if !ok {
		return errDecode("ClientHello extensions")
	}
	for _, e := range exts {
		if m.hasPreSharedKey {
			return alertf(AlertIllegalParameter, "pre_shared_key is not the last extension")
		}
		if !m.parseExtension(e) {
			return errDecode("ClientHello extension " + itoa(int(e.typ)))
		}
	}
	return nil
}

func (m *clientHelloMsg) parseExtension(e extension) bool {
	var ok bool
	switch e.typ {
	case extServerName:
		m.serverName, ok = parseServerName(e.data)
		return ok
	case extALPN:
		m.alpn, ok = parseALPN(e.data)
		return ok
	case extSupportedVersions:
		return readBody(e.data, func(s *cryptobyte.String) bool {
			var l cryptobyte.String
			if !s.ReadUint8LengthPrefixed(&l) || l.Empty() || len(l)%2 != 0 {
				return false
			}
			for !l.Empty() {
				var v uint16
				l.ReadUint16(&v)
				m.supportedVersions = append(m.supportedVersions, v)
			}
			return true
		})
	case extSupportedGroups:
		l, ok := parseUint16ListBody(e.data)
		for _, g := range l {
			m.supportedGroups = append(m.supportedGroups, CurveID(g))
		}
		return ok
	case extKeyShare:
		m.hasKeyShares = true
		return readBody(e.data, func(s *cryptobyte.String) bool {
			var l cryptobyte.String
			if !s.ReadUint16LengthPrefixed(&l) {
				return false
			}
			for !l.Empty() {
				var ks keyShare
				var data cryptobyte.String
				if !l.ReadUint16((*uint16)(&ks.group)) || !l.ReadUint16LengthPrefixed(&data) || data.Empty() {
					return false
				}
				ks.data = data
				m.keyShares = append(m.keyShares, ks)
			}
			return true
		})
	case extSignatureAlgorithms:
		m.signatureAlgorithms, ok = parseUint16ListBody(e.data)
		return ok
	case extSignatureAlgorithmsCert:
		m.sigAlgsCert, ok = parseUint16ListBody(e.data)
		return ok
	case extClientCertificateType:
		m.clientCertTypes, ok = parseCertTypeList(e.data)
		return ok
	case extServerCertificateType:
		m.serverCertTypes, ok = parseCertTypeList(e.data)
		return ok
	case extQUICTransportParameters:
		m.transportParameters, m.hasTransportParams = e.data, true
		return true
	case extPSKKeyExchangeModes:
		return readBody(e.data, func(s *cryptobyte.String) bool {
			var l cryptobyte.String
			if !s.ReadUint8LengthPrefixed(&l) || l.Empty() {
				return false
			}
			m.pskModes = l
			return true
		})
	case extCookie:
		return readBody(e.data, func(s *cryptobyte.String) bool {
			var c cryptobyte.String
			if !s.ReadUint16LengthPrefixed(&c) || c.Empty() {
				return false
			}
			m.cookie = c
			return true
		})
	case extEarlyData:
		m.earlyData = true
		return len(e.data) == 0
	case extPreSharedKey:
		// Not used for now (full handshakes only); must still be last.
		m.hasPreSharedKey = true
		return len(e.data) > 0
	}
	return true // unknown and TLS 1.2 leftovers are ignored
}

// serverHelloMsg is a ServerHello or, if isHRR, a HelloRetryRequest.
type serverHelloMsg struct {
	random           []byte
	sessionID        []byte
	cipherSuite      uint16
	supportedVersion uint16
	keyShare         keyShare // ServerHello
	selectedGroup    CurveID  // HelloRetryRequest
	cookie           []byte   // HelloRetryRequest
	hasPSK           bool
	selectedIdentity uint16
	extTypes         []uint16
}

func (m *serverHelloMsg) isHRR() bool { return bytes.Equal(m.random, hrrRandom) }

func (m *serverHelloMsg) marshal() []byte {
	var exts []extension
	exts = append(exts, extension{extSupportedVersions, build(func(b *cryptobyte.Builder) { b.AddUint16(m.supportedVersion) })})
	if m.isHRR() {
		exts = append(exts, extension{extKeyShare, build(func(b *cryptobyte.Builder) { b.AddUint16(uint16(m.selectedGroup)) })})
		if len(m.cookie) > 0 {
			exts = append(exts, extension{extCookie, build(func(b *cryptobyte.Builder) {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.cookie) })
			})})
		}
	} else {
		exts = append(exts, extension{extKeyShare, build(func(b *cryptobyte.Builder) {
			b.AddUint16(uint16(m.keyShare.group))
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.keyShare.data) })
		})})
	}
	return wrapMessage(typeServerHello, func(b *cryptobyte.Builder) {
		b.AddUint16(versionTLS12)
		b.AddBytes(m.random)
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.sessionID) })
		b.AddUint16(m.cipherSuite)
		b.AddUint8(0)
		addExtensions(b, exts)
	})
}

func (m *serverHelloMsg) unmarshal(body []byte) error {
	*m = serverHelloMsg{}
	s := cryptobyte.String(body)
	var version uint16
	var sid cryptobyte.String
	var comp uint8
	if !s.ReadUint16(&version) || !s.ReadBytes(&m.random, 32) || !s.ReadUint8LengthPrefixed(&sid) ||
		len(sid) > 32 || !s.ReadUint16(&m.cipherSuite) || !s.ReadUint8(&comp) {
		return errDecode("ServerHello")
	}
	m.sessionID = sid
	if version != versionTLS12 || comp != 0 {
		return alertf(AlertIllegalParameter, "ServerHello legacy version or compression")
	}
	exts, ok := readExtensions(&s)
	if !ok {
		return errDecode("ServerHello extensions")
	}
	hrr := m.isHRR()
	for _, e := range exts {
		m.extTypes = append(m.extTypes, e.typ)
		switch {
		case e.typ == extSupportedVersions:
			ok = readBody(e.data, func(s *cryptobyte.String) bool { return s.ReadUint16(&m.supportedVersion) })
		case e.typ == extKeyShare && hrr:
			ok = readBody(e.data, func(s *cryptobyte.String) bool { return s.ReadUint16((*uint16)(&m.selectedGroup)) })
		case e.typ == extKeyShare:
			ok = readBody(e.data, func(s *cryptobyte.String) bool {
				var d cryptobyte.String
				if !s.ReadUint16((*uint16)(&m.keyShare.group)) || !s.ReadUint16LengthPrefixed(&d) || d.Empty() {
					return false
				}
				m.keyShare.data = d
				return true
			})
		case e.typ == extCookie && hrr:
			ok = readBody(e.data, func(s *cryptobyte.String) bool {
				var c cryptobyte.String
				if !s.ReadUint16LengthPrefixed(&c) || c.Empty() {
					return false
				}
				m.cookie = c
				return true
			})
		case e.typ == extPreSharedKey && !hrr:
			m.hasPSK = true
			ok = readBody(e.data, func(s *cryptobyte.String) bool { return s.ReadUint16(&m.selectedIdentity) })
		default:
			// We never offer anything else the server could answer here.
			return alertf(AlertUnsupportedExtension, "unsolicited ServerHello extension %d", e.typ)
		}
		if !ok {
			return errDecode("ServerHello extension " + itoa(int(e.typ)))
		}
	}
	return nil
}

// encryptedExtensionsMsg keeps every extension for the strictness checks
// done by the client.
type encryptedExtensionsMsg struct {
	exts                []extension
	alpn                string
	serverNameAck       bool
	clientCertType      int // -1 when absent
	serverCertType      int // -1 when absent
	transportParameters []byte
	hasTransportParams  bool
	earlyData           bool
}

func (m *encryptedExtensionsMsg) marshal() []byte {
	var exts []extension
	if m.serverNameAck {
		exts = append(exts, extension{extServerName, nil})
	}
	if m.alpn != "" {
		exts = append(exts, extension{extALPN, marshalALPN([]string{m.alpn})})
	}
	if m.clientCertType >= 0 {
		exts = append(exts, extension{extClientCertificateType, []byte{uint8(m.clientCertType)}})
	}
	if m.serverCertType >= 0 {
		exts = append(exts, extension{extServerCertificateType, []byte{uint8(m.serverCertType)}})
	}
	if m.hasTransportParams {
		exts = append(exts, extension{extQUICTransportParameters, m.transportParameters})
	}
	return wrapMessage(typeEncryptedExtensions, func(b *cryptobyte.Builder) { addExtensions(b, exts) })
}

func (m *encryptedExtensionsMsg) unmarshal(body []byte) error {
	*m = encryptedExtensionsMsg{clientCertType: -1, serverCertType: -1}
	s := cryptobyte.String(body)
	var block cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&block) || !s.Empty() {
		return errDecode("EncryptedExtensions")
	}
	full := cryptobyte.String(body)
	exts, ok := readExtensions(&full)
	if !ok {
		return errDecode("EncryptedExtensions extensions")
	}
	m.exts = exts
	for _, e := range exts {
		switch e.typ {
		case extServerName:
			ok = len(e.data) == 0
			m.serverNameAck = true
		case extALPN:
			var protos []string
			protos, ok = parseALPN(e.data)
			if ok && len(protos) != 1 {
				return alertf(AlertIllegalParameter, "server selected %d ALPN protocols", len(protos))
			}
			if ok {
				m.alpn = protos[0]
			}
		case extClientCertificateType:
			ok = len(e.data) == 1
			if ok {
				m.clientCertType = int(e.data[0])
			}
		case extServerCertificateType:
			ok = len(e.data) == 1
			if ok {
				m.serverCertType = int(e.data[0])
			}
		case extQUICTransportParameters:
			m.transportParameters, m.hasTransportParams = e.data, true
		case extEarlyData:
			ok = len(e.data) == 0
			m.earlyData = true
		}
		if !ok {
			return errDecode("EncryptedExtensions extension " + itoa(int(e.typ)))
		}
	}
	return nil
}

type certificateRequestMsg struct {
	context             []byte
	signatureAlgorithms []uint16
	sigAlgsCert         []uint16
}

func (m *certificateRequestMsg) marshal() []byte {
	exts := []extension{{extSignatureAlgorithms, build(func(b *cryptobyte.Builder) { addUint16List(b, m.signatureAlgorithms) })}}
	return wrapMessage(typeCertificateRequest, func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.context) })
		addExtensions(b, exts)
	})
}

func (m *certificateRequestMsg) unmarshal(body []byte) error {
	*m = certificateRequestMsg{}
	s := cryptobyte.String(body)
	var ctx cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&ctx) || s.Empty() {
		return errDecode("CertificateRequest")
	}
	m.context = ctx
	exts, ok := readExtensions(&s)
	if !ok {
		return errDecode("CertificateRequest extensions")
	}
	for _, e := range exts {
		switch e.typ {
		case extSignatureAlgorithms:
			m.signatureAlgorithms, ok = parseUint16ListBody(e.data)
		case extSignatureAlgorithmsCert:
			m.sigAlgsCert, ok = parseUint16ListBody(e.data)
		}
		if !ok {
			return errDecode("CertificateRequest extension " + itoa(int(e.typ)))
		}
	}
	if m.signatureAlgorithms == nil {
		return alertf(AlertMissingExtension, "CertificateRequest without signature_algorithms")
	}
	return nil
}

// certificateMsg carries raw certificate entries (SPKI or X.509 DER);
// per-entry extensions are parsed and ignored.
type certificateMsg struct {
	context []byte
	entries [][]byte
}

func (m *certificateMsg) marshal() []byte {
	return wrapMessage(typeCertificate, func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.context) })
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, c := range m.entries {
				b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c) })
				b.AddUint16(0)
			}
		})
	})
}

func (m *certificateMsg) unmarshal(body []byte) error {
	*m = certificateMsg{}
	s := cryptobyte.String(body)
	var ctx, list cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&ctx) || !s.ReadUint24LengthPrefixed(&list) || !s.Empty() {
		return errDecode("Certificate")
	}
	m.context = ctx
	for !list.Empty() {
		var cert, exts cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&cert) || cert.Empty() || !list.ReadUint16LengthPrefixed(&exts) {
			return errDecode("Certificate entry")
		}
		var e cryptobyte.String
		for !exts.Empty() {
			var typ uint16
			if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&e) {
				return errDecode("Certificate entry extensions")
			}
		}
		m.entries = append(m.entries, cert)
	}
	return nil
}

type certificateVerifyMsg struct {
	scheme    uint16
	signature []byte
}

func (m *certificateVerifyMsg) marshal() []byte {
	return wrapMessage(typeCertificateVerify, func(b *cryptobyte.Builder) {
		b.AddUint16(m.scheme)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.signature) })
	})
}

func (m *certificateVerifyMsg) unmarshal(body []byte) error {
	*m = certificateVerifyMsg{}
	s := cryptobyte.String(body)
	var sig cryptobyte.String
	if !s.ReadUint16(&m.scheme) || !s.ReadUint16LengthPrefixed(&sig) || sig.Empty() || !s.Empty() {
		return errDecode("CertificateVerify")
	}
	m.signature = sig
	return nil
}

type finishedMsg struct {
	verifyData []byte
}

func (m *finishedMsg) marshal() []byte {
	return wrapMessage(typeFinished, func(b *cryptobyte.Builder) { b.AddBytes(m.verifyData) })
}

// unmarshal takes the whole body; the expected length is checked by the caller.
func (m *finishedMsg) unmarshal(body []byte) error {
	if len(body) == 0 {
		return errDecode("Finished")
	}
	m.verifyData = body
	return nil
}

type newSessionTicketMsg struct {
	lifetime     uint32
	ageAdd       uint32
	nonce        []byte
	ticket       []byte
	maxEarlyData uint32
	hasEarlyData bool
}

func (m *newSessionTicketMsg) marshal() []byte {
	var exts []extension
	if m.hasEarlyData {
		exts = append(exts, extension{extEarlyData, build(func(b *cryptobyte.Builder) { b.AddUint32(m.maxEarlyData) })})
	}
	return wrapMessage(typeNewSessionTicket, func(b *cryptobyte.Builder) {
		b.AddUint32(m.lifetime)
		b.AddUint32(m.ageAdd)
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.nonce) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.ticket) })
		addExtensions(b, exts)
	})
}

func (m *newSessionTicketMsg) unmarshal(body []byte) error {
	*m = newSessionTicketMsg{}
	s := cryptobyte.String(body)
	var nonce, ticket cryptobyte.String
	if !s.ReadUint32(&m.lifetime) || !s.ReadUint32(&m.ageAdd) || !s.ReadUint8LengthPrefixed(&nonce) ||
		!s.ReadUint16LengthPrefixed(&ticket) || ticket.Empty() || s.Empty() {
		return errDecode("NewSessionTicket")
	}
	m.nonce, m.ticket = nonce, ticket
	exts, ok := readExtensions(&s)
	if !ok {
		return errDecode("NewSessionTicket extensions")
	}
	for _, e := range exts {
		if e.typ == extEarlyData {
			m.hasEarlyData = true
			if !readBody(e.data, func(s *cryptobyte.String) bool { return s.ReadUint32(&m.maxEarlyData) }) {
				return errDecode("NewSessionTicket early_data")
			}
		}
	}
	if m.lifetime > 604800 {
		return alertf(AlertIllegalParameter, "ticket lifetime over 7 days")
	}
	return nil
}

func itoa(v int) string { return strconv.Itoa(v) }
