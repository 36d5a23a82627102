// Package handshake is a sans-IO TLS 1.3 handshake engine for QUIC
// (RFC 9001 §4) with RFC 7250 raw public keys, as iroh 1.0 uses them.
//
// The engine never touches sockets, goroutines or clocks: the QUIC layer
// feeds CRYPTO data in with HandleData and drains Events (bytes to send,
// traffic secrets to install, completion) with NextEvent.
package handshake

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"io"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// Level is a QUIC encryption level.
type Level uint8

const (
	LevelInitial Level = iota
	LevelEarly
	LevelHandshake
	LevelApplication
)

func (l Level) String() string {
	return [...]string{"Initial", "Early", "Handshake", "Application"}[l&3]
}

// Mode selects how endpoints present their Ed25519 identity.
type Mode uint8

const (
	// ModeRawPublicKey sends the bare SPKI (RFC 7250), as iroh does.
	ModeRawPublicKey Mode = iota
	// ModeX509 sends a self-signed Ed25519 certificate whose key is pinned;
	// it exists to test against crypto/tls and quic-go.
	ModeX509
	// ModeWebPKI is plain X.509 TLS without Ed25519 identities (webpki.go).
	ModeWebPKI
)

// maxMessageSize bounds a single handshake message; ours are a few hundred
// bytes, X.509 chains a few KiB.
const maxMessageSize = 64 << 10

// Config configures a client or server Conn. It must not be modified after
// NewClient/NewServer.
type Config struct {
	PrivateKey ed25519.PrivateKey
	Mode       Mode
	// ALPN: the client offers these in order; the server picks its first
	// entry the client offered. Must not be empty.
	ALPN []string
	// PeerKey: on the client, the dialled EndpointId the server must prove;
	// on the server, nil accepts any client key.
	PeerKey ed25519.PublicKey
	// ServerName is sent as SNI when non-empty (iroh ≤1.0.3 sends
	// <base32hex(id)>.iroh.invalid; later versions send none).
	ServerName          string
	TransportParameters []byte
	Rand                io.Reader // nil: crypto/rand
	// Certificate is our DER chain in X.509 mode; nil generates a
	// self-signed certificate for PrivateKey.
	Certificate    [][]byte
	SessionTickets *TicketStore
	CipherSuites   []uint16  // nil: rustls order
	Groups         []CurveID // nil: x25519, secp256r1
	KeyLogWriter   io.Writer // NSS key log format (SSLKEYLOGFILE)
	// Now supplies the time for session-ticket bookkeeping; nil leaves
	// tickets without a receive time. The engine itself keeps no clock.
	// ModeWebPKI verifies certificates at Now (nil: the current time).
	Now func() time.Time
	// Roots are the CAs a ModeWebPKI client trusts; nil: the system's.
	Roots *x509.CertPool
	// Signer is a ModeWebPKI server's key for Certificate's leaf
	// (ECDSA, RSA or Ed25519); PrivateKey is unused in that mode.
	Signer crypto.Signer
}

// ErrInvalidConfig is returned by NewClient/NewServer for unusable configs.
var ErrInvalidConfig = errors.New("handshake: invalid config")

// ErrNotComplete is returned by operations that need a finished handshake.
var ErrNotComplete = errors.New("handshake: handshake not complete")

// EventKind tells what an Event asks the QUIC layer to do.
type EventKind uint8

const (
	EventNone EventKind = iota
	EventWriteData
	EventSetReadSecret
	EventSetWriteSecret
	EventTransportParameters
	EventHandshakeComplete
	EventSessionTicket
)

// Event is one output of the engine, drained with NextEvent.
type Event struct {
	Kind   EventKind
	Level  Level
	Data   []byte
	Suite  uint16
	Secret []byte
}

// ConnectionState describes the negotiated connection.
type ConnectionState struct {
	PeerKey                 ed25519.PublicKey
	ALPN                    string
	Suite                   uint16
	Group                   CurveID
	Complete                bool
	Resumed                 bool
	PeerTransportParameters []byte
	PeerCertificates        [][]byte // raw entries as received
}

// PeerID is the peer's EndpointId (its 32-byte Ed25519 key).
func (s ConnectionState) PeerID() [32]byte {
	var id [32]byte
	copy(id[:], s.PeerKey)
	return id
}

// handshakeState is the position in the handshake script; each state
// expects one message type.
type handshakeState uint8

const (
	stateStart handshakeState = iota
	stateWaitClientHello
	stateWaitServerHello
	stateWaitEncryptedExtensions
	stateWaitCertificateRequest // or Certificate
	stateWaitCertificate
	stateWaitCertificateVerify
	stateWaitFinished
	stateComplete
)

// Conn is one side of a handshake.
type Conn struct {
	cfg      *Config
	isClient bool
	rand     io.Reader

	events    []Event
	readLevel Level
	buf       []byte // unprocessed bytes at readLevel
	err       error
	state     handshakeState

	suite      *cipherSuite
	group      CurveID
	transcript []byte
	hrr        bool

	clientRandom []byte
	keyShares    map[CurveID]*ecdh.PrivateKey // client: offered shares
	hello        *clientHelloMsg              // client: last ClientHello sent

	handshakeSecret []byte
	clientHS        []byte
	serverHS        []byte
	masterSecret    []byte
	clientAP        []byte
	serverAP        []byte
	exporterSecret  []byte
	resumption      []byte

	certRequested bool // client: server asked for our certificate
	sendCert      bool // client: we can satisfy the request (ed25519)
	peerKey       ed25519.PublicKey
	peerCerts     [][]byte
	alpn          string
	peerTP        []byte
	certificate   [][]byte
	ticketNonce   uint64
	offeredPSKDHE bool // server: client allows tickets
	// ModeWebPKI: the server leaf's key (client), our scheme (server).
	peerPublic crypto.PublicKey
	sigScheme  uint16
}

func newConn(cfg *Config, isClient bool) (*Conn, error) {
	if cfg != nil && cfg.Mode == ModeWebPKI {
		if err := checkWebPKIConfig(cfg, isClient); err != nil {
			return nil, err
		}
	} else if cfg == nil || len(cfg.PrivateKey) != ed25519.PrivateKeySize {
		return nil, errors.Join(ErrInvalidConfig, errors.New("PrivateKey must be an Ed25519 key"))
	}
	if len(cfg.ALPN) == 0 {
		return nil, errors.Join(ErrInvalidConfig, errors.New("ALPN must not be empty"))
	}
	for _, p := range cfg.ALPN {
		if len(p) == 0 || len(p) > 255 {
			return nil, errors.Join(ErrInvalidConfig, errors.New("ALPN entries must be 1..255 bytes"))
		}
	}
	if cfg.PeerKey != nil && len(cfg.PeerKey) != ed25519.PublicKeySize {
		return nil, errors.Join(ErrInvalidConfig, errors.New("PeerKey must be 32 bytes"))
	}
	for _, s := range cfg.CipherSuites {
		if cipherSuiteByID(s) == nil {
			return nil, errors.Join(ErrInvalidConfig, errors.New("unsupported cipher suite"))
		}
	}
	for _, g := range cfg.Groups {
		if curveFor(g) == nil {
			return nil, errors.Join(ErrInvalidConfig, errors.New("unsupported group"))
		}
	}
	c := &Conn{cfg: cfg, isClient: isClient, rand: cfg.Rand}
	if c.rand == nil {
		c.rand = rand.Reader
	}
	switch cfg.Mode {
	case ModeRawPublicKey:
		c.certificate = [][]byte{MarshalSPKI(cfg.PrivateKey.Public().(ed25519.PublicKey))}
	case ModeX509:
		c.certificate = cfg.Certificate
		if c.certificate == nil {
			der, err := selfSignedCertificate(cfg.PrivateKey, c.rand)
			if err != nil {
				return nil, errors.Join(ErrInvalidConfig, err)
			}
			c.certificate = [][]byte{der}
		}
	case ModeWebPKI:
		if !isClient {
			c.certificate = cfg.Certificate
		}
	default:
		return nil, errors.Join(ErrInvalidConfig, errors.New("unknown Mode"))
	}
	return c, nil
}

// NewClient returns a client Conn; call Start to produce the ClientHello.
func NewClient(cfg *Config) (*Conn, error) { return newConn(cfg, true) }

// NewServer returns a server Conn waiting for a ClientHello.
func NewServer(cfg *Config) (*Conn, error) {
	c, err := newConn(cfg, false)
	if err == nil {
		c.state = stateWaitClientHello
	}
	return c, err
}

func (c *Conn) cipherSuites() []uint16 {
	if c.cfg.CipherSuites != nil {
		return c.cfg.CipherSuites
	}
	return defaultCipherSuites
}

func (c *Conn) groups() []CurveID {
	if c.cfg.Groups != nil {
		return c.cfg.Groups
	}
	return []CurveID{X25519, CurveP256}
}

// Start begins the handshake. On a client it queues the ClientHello; on a
// server it is a no-op.
func (c *Conn) Start() error {
	if c.err != nil {
		return c.err
	}
	if !c.isClient {
		return nil
	}
	if c.state != stateStart {
		return c.fail(alertf(AlertInternalError, "Start called twice"))
	}
	return c.fail(c.sendClientHello())
}

// HandleData consumes handshake bytes received at level. Messages may be
// split across calls or packed several per call.
func (c *Conn) HandleData(level Level, data []byte) error {
	if c.err != nil {
		return c.err
	}
	if c.state == stateStart {
		return c.fail(alertf(AlertUnexpectedMessage, "data before Start"))
	}
	if level != c.readLevel {
		return c.fail(alertf(AlertUnexpectedMessage, "handshake data at %v, expected %v", level, c.readLevel))
	}
	c.buf = append(c.buf, data...)
	for len(c.buf) >= 4 {
		n := int(c.buf[1])<<16 | int(c.buf[2])<<8 | int(c.buf[3])
		if n > maxMessageSize {
			return c.fail(alertf(AlertDecodeError, "handshake message of %d bytes exceeds limit", n))
		}
		if len(c.buf) < 4+n {
			break
		}
		msg := c.buf[: 4+n : 4+n]
		c.buf = c.buf[4+n:]
		prevLevel := c.readLevel
		if err := c.handleMessage(msg); err != nil {
			return c.fail(err)
		}
		// RFC 9001 §4.1.3: a message must not straddle a key change.
		if c.readLevel != prevLevel && len(c.buf) > 0 {
			return c.fail(alertf(AlertUnexpectedMessage, "data left at %v after key change", prevLevel))
		}
	}
	if len(c.buf) == 0 {
		c.buf = nil
	}
	return nil
}

func (c *Conn) handleMessage(msg []byte) error {
	if c.isClient {
		return c.clientHandleMessage(msg)
	}
	return c.serverHandleMessage(msg)
}

// fail records the first error; every later call returns it.
func (c *Conn) fail(err error) error {
	if err == nil {
		return nil
	}
	var ae *AlertError
	if !errors.As(err, &ae) {
		ae = alertf(AlertInternalError, "%v", err)
	}
	c.err = ae
	c.events = nil
	return ae
}

// NextEvent returns the next pending event, or Kind==EventNone.
func (c *Conn) NextEvent() Event {
	if len(c.events) == 0 {
		return Event{}
	}
	ev := c.events[0]
	c.events = c.events[1:]
	return ev
}

func (c *Conn) emit(ev Event) { c.events = append(c.events, ev) }

// writeMessage appends msg to the transcript and queues it at level.
func (c *Conn) writeMessage(level Level, msg []byte) {
	c.transcript = append(c.transcript, msg...)
	if n := len(c.events); n > 0 && c.events[n-1].Kind == EventWriteData && c.events[n-1].Level == level {
		c.events[n-1].Data = append(c.events[n-1].Data, msg...)
		return
	}
	c.emit(Event{Kind: EventWriteData, Level: level, Data: bytes.Clone(msg)})
}

func (c *Conn) setReadSecret(level Level, secret []byte) {
	c.readLevel = level
	c.emit(Event{Kind: EventSetReadSecret, Level: level, Suite: c.suite.id, Secret: bytes.Clone(secret)})
}

func (c *Conn) setWriteSecret(level Level, secret []byte) {
	c.emit(Event{Kind: EventSetWriteSecret, Level: level, Suite: c.suite.id, Secret: bytes.Clone(secret)})
}

func (c *Conn) transcriptHash() []byte { return c.suite.transcriptHash(c.transcript) }

// State reports what has been negotiated so far.
func (c *Conn) State() ConnectionState {
	s := ConnectionState{
		PeerKey:                 c.peerKey,
		ALPN:                    c.alpn,
		Group:                   c.group,
		Complete:                c.state == stateComplete && c.err == nil,
		PeerTransportParameters: c.peerTP,
		PeerCertificates:        c.peerCerts,
	}
	if c.suite != nil {
		s.Suite = c.suite.id
	}
	return s
}

// ExportKeyingMaterial implements RFC 8446 §7.5 on the exporter master secret.
func (c *Conn) ExportKeyingMaterial(label string, context []byte, length int) ([]byte, error) {
	if c.exporterSecret == nil || c.err != nil {
		return nil, ErrNotComplete
	}
	if length < 0 || length > 255*c.suite.hashLen() {
		return nil, errors.New("handshake: invalid exporter length")
	}
	return c.suite.exportKeyingMaterial(c.exporterSecret, label, context, length), nil
}

// deriveApplicationSecrets runs after the server Finished is in the transcript.
func (c *Conn) deriveApplicationSecrets() {
	th := c.transcriptHash()
	c.masterSecret = c.suite.masterSecret(c.handshakeSecret)
	c.clientAP = c.suite.deriveSecret(c.masterSecret, labelClientAppTraffic, th)
	c.serverAP = c.suite.deriveSecret(c.masterSecret, labelServerAppTraffic, th)
	c.exporterSecret = c.suite.deriveSecret(c.masterSecret, labelExporter, th)
	c.logKey(keyLogClientTraffic, c.clientAP)
	c.logKey(keyLogServerTraffic, c.serverAP)
	c.logKey(keyLogExporter, c.exporterSecret)
}

// deriveHandshakeSecrets runs after ServerHello is in the transcript.
func (c *Conn) deriveHandshakeSecrets(sharedSecret []byte) {
	th := c.transcriptHash()
	c.handshakeSecret = c.suite.handshakeSecret(c.suite.earlySecret(nil), sharedSecret)
	c.clientHS = c.suite.deriveSecret(c.handshakeSecret, labelClientHandshake, th)
	c.serverHS = c.suite.deriveSecret(c.handshakeSecret, labelServerHandshake, th)
	c.logKey(keyLogClientHandshake, c.clientHS)
	c.logKey(keyLogServerHandshake, c.serverHS)
}

// sign produces our CertificateVerify.
func (c *Conn) certificateVerify(context string) []byte {
	sig := identity.Sign(c.cfg.PrivateKey, signedMessage(context, c.transcriptHash()))
	return (&certificateVerifyMsg{scheme: sigEd25519, signature: sig}).marshal()
}

// verifyPeerSignature checks the peer's CertificateVerify against the
// transcript up to (not including) that message.
func (c *Conn) verifyPeerSignature(body []byte, context string) error {
	var cv certificateVerifyMsg
	if err := cv.unmarshal(body); err != nil {
		return err
	}
	if c.cfg != nil && c.cfg.Mode == ModeWebPKI {
		return c.verifyWebPKISignature(&cv, context)
	}
	if cv.scheme != sigEd25519 {
		return alertf(AlertIllegalParameter, "CertificateVerify with unadvertised scheme %#04x", cv.scheme)
	}
	if !verifyStrict(c.peerKey, signedMessage(context, c.transcriptHash()), cv.signature) {
		return alertf(AlertDecryptError, "invalid CertificateVerify signature")
	}
	return nil
}

// verifyPeerFinished checks a Finished body against baseKey.
func (c *Conn) verifyPeerFinished(body []byte, trafficSecret []byte) error {
	var fin finishedMsg
	if err := fin.unmarshal(body); err != nil {
		return err
	}
	if len(fin.verifyData) != c.suite.hashLen() {
		return errDecode("Finished length")
	}
	want := c.suite.finishedMAC(trafficSecret, c.transcriptHash())
	if !hmac.Equal(want, fin.verifyData) {
		return alertf(AlertDecryptError, "Finished verify_data mismatch")
	}
	return nil
}

func (c *Conn) finished(trafficSecret []byte) []byte {
	return (&finishedMsg{verifyData: c.suite.finishedMAC(trafficSecret, c.transcriptHash())}).marshal()
}

func (c *Conn) now() time.Time {
	if c.cfg.Now != nil {
		return c.cfg.Now()
	}
	return time.Time{}
}
