package handshake

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"testing"
)

// testRand is a deterministic randomness source for reproducible handshakes.
func testRand(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

func testKey(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	return ed25519.NewKeyFromSeed(s)
}

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

type flight struct {
	level Level
	data  []byte
}

// endpoint abstracts our Conn and crypto/tls's QUICConn for the harness.
type endpoint interface {
	handle(level Level, data []byte) error
	drain() ([]flight, error)
	result() *sideResult
}

type sideResult struct {
	read, write map[Level][]byte
	suite       uint16
	peerTP      []byte
	complete    bool
	tickets     int
}

func newSideResult() *sideResult {
	return &sideResult{read: map[Level][]byte{}, write: map[Level][]byte{}}
}

type ourEndpoint struct {
	c   *Conn
	res *sideResult
}

func (e *ourEndpoint) handle(l Level, d []byte) error { return e.c.HandleData(l, d) }
func (e *ourEndpoint) result() *sideResult            { return e.res }
func (e *ourEndpoint) drain() ([]flight, error) {
	var out []flight
	for {
		ev := e.c.NextEvent()
		switch ev.Kind {
		case EventNone:
			return out, nil
		case EventWriteData:
			out = append(out, flight{ev.Level, ev.Data})
		case EventSetReadSecret:
			e.res.read[ev.Level], e.res.suite = ev.Secret, ev.Suite
		case EventSetWriteSecret:
			e.res.write[ev.Level], e.res.suite = ev.Secret, ev.Suite
		case EventTransportParameters:
			e.res.peerTP = ev.Data
		case EventHandshakeComplete:
			if e.res.complete {
				return nil, fmt.Errorf("HandshakeComplete twice")
			}
			e.res.complete = true
		case EventSessionTicket:
			e.res.tickets++
		}
	}
}

type goEndpoint struct {
	q   *tls.QUICConn
	tp  []byte
	res *sideResult
}

func (e *goEndpoint) handle(l Level, d []byte) error {
	return e.q.HandleData(tls.QUICEncryptionLevel(l), d)
}
func (e *goEndpoint) result() *sideResult { return e.res }
func (e *goEndpoint) drain() ([]flight, error) {
	var out []flight
	for {
		ev := e.q.NextEvent()
		l := Level(ev.Level)
		switch ev.Kind {
		case tls.QUICNoEvent:
			return out, nil
		case tls.QUICWriteData:
			out = append(out, flight{l, append([]byte(nil), ev.Data...)})
		case tls.QUICSetReadSecret:
			e.res.read[l], e.res.suite = append([]byte(nil), ev.Data...), ev.Suite
		case tls.QUICSetWriteSecret:
			e.res.write[l], e.res.suite = append([]byte(nil), ev.Data...), ev.Suite
		case tls.QUICTransportParameters:
			e.res.peerTP = append([]byte(nil), ev.Data...)
		case tls.QUICTransportParametersRequired:
			e.q.SetTransportParameters(e.tp)
		case tls.QUICHandshakeDone:
			e.res.complete = true
		case tls.QUICErrorEvent:
			return out, ev.Err
		}
	}
}

func newOurs(t testing.TB, cfg *Config, client bool) *ourEndpoint {
	t.Helper()
	var c *Conn
	var err error
	if client {
		c, err = NewClient(cfg)
	} else {
		c, err = NewServer(cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return &ourEndpoint{c: c, res: newSideResult()}
}

func newGo(t testing.TB, cfg *tls.Config, tp []byte, client bool) *goEndpoint {
	t.Helper()
	qc := &tls.QUICConfig{TLSConfig: cfg}
	var q *tls.QUICConn
	if client {
		q = tls.QUICClient(qc)
		q.SetTransportParameters(tp)
	} else {
		q = tls.QUICServer(qc)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return &goEndpoint{q: q, tp: tp, res: newSideResult()}
}

// run shuttles flights between client and server until both are quiet.
// It returns the first error and which side raised it.
func run(client, server endpoint) (clientErr, serverErr error) {
	var toServer, toClient []flight
	for range 20 {
		f, err := client.drain()
		if err != nil {
			return err, nil
		}
		toServer = append(toServer, f...)
		f, err = server.drain()
		if err != nil {
			return nil, err
		}
		toClient = append(toClient, f...)
		if len(toServer) == 0 && len(toClient) == 0 {
			return nil, nil
		}
		for _, fl := range toServer {
			if err := server.handle(fl.level, fl.data); err != nil {
				return nil, err
			}
		}
		toServer = nil
		for _, fl := range toClient {
			if err := client.handle(fl.level, fl.data); err != nil {
				return err, nil
			}
		}
		toClient = nil
	}
	return fmt.Errorf("handshake did not settle"), nil
}

// checkSecrets verifies both sides installed matching keys.
func checkSecrets(t *testing.T, c, s *sideResult) {
	t.Helper()
	for _, l := range []Level{LevelHandshake, LevelApplication} {
		if c.write[l] == nil || string(c.write[l]) != string(s.read[l]) {
			t.Errorf("%v: client write secret %x != server read secret %x", l, c.write[l], s.read[l])
		}
		if s.write[l] == nil || string(s.write[l]) != string(c.read[l]) {
			t.Errorf("%v: server write secret %x != client read secret %x", l, s.write[l], c.read[l])
		}
	}
	if c.suite != s.suite {
		t.Errorf("suite: client %#x, server %#x", c.suite, s.suite)
	}
}
