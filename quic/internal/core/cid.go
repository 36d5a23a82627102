package core

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// LocalCIDLen is the length of every connection ID we issue. iroh uses 8
// bytes too, and a fixed length lets short headers be demultiplexed without
// per-connection lookups.
const LocalCIDLen = 8

// ResetToken is a stateless reset token (RFC 9000 §10.3).
type ResetToken [16]byte

// ResetKey derives stateless reset tokens from connection IDs, so an endpoint
// that lost a connection's state can still prove it once owned the CID.
type ResetKey [32]byte

// Token returns the reset token for cid: the first 16 bytes of
// HMAC-SHA256(k, cid) (RFC 2104), computed on the stack because every
// issued CID needs one and a connection issues dozens at handshake.
func (k *ResetKey) Token(cid []byte) ResetToken {
	if len(cid) > wire.MaxConnIDLen {
		m := hmac.New(sha256.New, k[:]) // no CID is this long
		m.Write(cid)
		return ResetToken(m.Sum(nil)[:16])
	}
	const block = sha256.BlockSize
	var inner [block + wire.MaxConnIDLen]byte
	var outer [block + sha256.Size]byte
	copy(inner[:], k[:]) // the key is shorter than a block: zero-padded
	copy(outer[:], k[:])
	for i := range block {
		inner[i] ^= 0x36
		outer[i] ^= 0x5c
	}
	n := copy(inner[block:], cid)
	ih := sha256.Sum256(inner[:block+n])
	copy(outer[block:], ih[:])
	oh := sha256.Sum256(outer[:])
	return ResetToken(oh[:16])
}

// issuedCID is a connection ID we handed to the peer.
type issuedCID struct {
	seq   uint64
	id    [LocalCIDLen]byte
	token ResetToken
}

// localCIDs tracks the connection IDs the peer may address us by.
type localCIDs struct {
	rand    io.Reader
	key     *ResetKey
	nextSeq uint64
	active  []issuedCID
	// pending holds sequence numbers whose NEW_CONNECTION_ID must be (re)sent.
	pending []uint64
}

var errCIDRetireUnknown = errors.New("retire of a connection ID never issued")

func newLocalCIDs(rand io.Reader, key *ResetKey, first []byte) *localCIDs {
	l := &localCIDs{rand: rand, key: key}
	var c issuedCID
	copy(c.id[:], first)
	c.token = key.Token(c.id[:])
	l.active = append(l.active, c)
	l.nextSeq = 1
	return l
}

// newPathLocalCIDs starts the set of a multipath path other than 0, whose
// sequence numbers start at 0 and are all announced by frames.
func newPathLocalCIDs(rand io.Reader, key *ResetKey) *localCIDs {
	return &localCIDs{rand: rand, key: key}
}

// contains reports whether id is one of the set's active CIDs.
func (l *localCIDs) contains(id []byte) bool {
	for i := range l.active {
		if string(l.active[i].id[:]) == string(id) {
			return true
		}
	}
	return false
}

// issue creates new CIDs until the peer holds limit of them, returning the
// new ones so the caller can register them with the endpoint.
func (l *localCIDs) issue(limit int) ([][LocalCIDLen]byte, error) {
	var out [][LocalCIDLen]byte
	for len(l.active) < limit {
		var c issuedCID
		if _, err := io.ReadFull(l.rand, c.id[:]); err != nil {
			return out, err
		}
		c.seq = l.nextSeq
		l.nextSeq++
		c.token = l.key.Token(c.id[:])
		l.active = append(l.active, c)
		l.pending = append(l.pending, c.seq)
		out = append(out, c.id)
	}
	return out, nil
}

// retire handles RETIRE_CONNECTION_ID. It returns the retired ID, or
// ok=false when the sequence number was already retired. Retiring a
// sequence number never issued, or the one the packet arrived on, is a
// PROTOCOL_VIOLATION (RFC 9000 §19.16).
func (l *localCIDs) retire(seq uint64, arrivedOn []byte) (id [LocalCIDLen]byte, ok bool, err error) {
	if seq >= l.nextSeq {
		return id, false, errCIDRetireUnknown
	}
	for i, c := range l.active {
		if c.seq != seq {
			continue
		}
		if subtle.ConstantTimeCompare(c.id[:], arrivedOn) == 1 {
			return id, false, errors.New("retire of the connection ID in use")
		}
		l.active = append(l.active[:i], l.active[i+1:]...)
		l.dropPending(seq)
		return c.id, true, nil
	}
	return id, false, nil
}

func (l *localCIDs) dropPending(seq uint64) {
	for i, s := range l.pending {
		if s == seq {
			l.pending = append(l.pending[:i], l.pending[i+1:]...)
			return
		}
	}
}

// lookup returns the issued CID with sequence number seq.
func (l *localCIDs) lookup(seq uint64) (issuedCID, bool) {
	for _, c := range l.active {
		if c.seq == seq {
			return c, true
		}
	}
	return issuedCID{}, false
}

// ids returns every CID currently valid for the peer to use.
func (l *localCIDs) ids() [][LocalCIDLen]byte {
	out := make([][LocalCIDLen]byte, len(l.active))
	for i, c := range l.active {
		out[i] = c.id
	}
	return out
}

// remoteCID is a connection ID the peer gave us.
type remoteCID struct {
	seq      uint64
	id       []byte
	token    ResetToken
	hasToken bool
}

// remoteCIDs tracks the peer's connection IDs; the first entry is the one in
// use as our destination CID.
type remoteCIDs struct {
	limit       int // our active_connection_id_limit
	retirePrior uint64
	ids         []remoteCID
	toRetire    []uint64 // RETIRE_CONNECTION_ID frames owed to the peer
}

// errCIDLimit maps to CONNECTION_ID_LIMIT_ERROR.
var errCIDLimit = errors.New("peer exceeded active_connection_id_limit")

func newRemoteCIDs(limit int, first []byte) *remoteCIDs {
	r := &remoteCIDs{limit: limit}
	r.ids = append(r.ids, remoteCID{seq: 0, id: append([]byte(nil), first...)})
	return r
}

// active returns the CID to put in outgoing packets.
func (r *remoteCIDs) active() []byte { return r.ids[0].id }

// usable reports whether the peer gave us any CID for this path yet.
func (r *remoteCIDs) usable() bool { return len(r.ids) > 0 }

// setInitial replaces sequence 0, used when the server picks its own SCID
// (or after Retry) before any NEW_CONNECTION_ID was processed.
func (r *remoteCIDs) setInitial(id []byte) {
	r.ids[0] = remoteCID{seq: 0, id: append([]byte(nil), id...)}
}

// setInitialToken records the server's stateless_reset_token parameter,
// which belongs to sequence 0.
func (r *remoteCIDs) setInitialToken(t ResetToken) {
	for i := range r.ids {
		if r.ids[i].seq == 0 {
			r.ids[i].token, r.ids[i].hasToken = t, true
		}
	}
}

// add handles NEW_CONNECTION_ID (RFC 9000 §19.15).
func (r *remoteCIDs) add(seq, retirePriorTo uint64, id []byte, token ResetToken) error {
	if seq < r.retirePrior {
		// Already retired by an earlier retire_prior_to: retire it at once.
		r.toRetire = append(r.toRetire, seq)
		return nil
	}
	for _, c := range r.ids {
		if c.seq == seq {
			if string(c.id) != string(id) || (c.hasToken && c.token != token) {
				return errors.New("NEW_CONNECTION_ID reuses a sequence number with other content")
			}
			return nil
		}
	}
	if retirePriorTo > r.retirePrior {
		r.retirePrior = retirePriorTo
		kept := r.ids[:0]
		for _, c := range r.ids {
			if c.seq < retirePriorTo {
				r.toRetire = append(r.toRetire, c.seq)
				continue
			}
			kept = append(kept, c)
		}
		r.ids = kept
	}
	if seq < r.retirePrior {
		r.toRetire = append(r.toRetire, seq)
		return nil
	}
	// Keep ids sorted by sequence number so the lowest usable one is in use.
	c := remoteCID{seq: seq, id: append([]byte(nil), id...), token: token, hasToken: true}
	i := len(r.ids)
	for i > 0 && r.ids[i-1].seq > seq {
		i--
	}
	r.ids = append(r.ids, remoteCID{})
	copy(r.ids[i+1:], r.ids[i:])
	r.ids[i] = c
	if len(r.ids) > r.limit {
		return errCIDLimit
	}
	return nil
}

// rotate drops the CID in use for the next one (active migration) and
// returns the sequence number the caller must retire; ok is false when
// no spare CID is available.
func (r *remoteCIDs) rotate() (retired uint64, ok bool) {
	if len(r.ids) < 2 {
		return 0, false
	}
	retired = r.ids[0].seq
	r.ids = r.ids[1:]
	return retired, true
}

func (r *remoteCIDs) appendTokens(dst []ResetToken) []ResetToken {
	for _, c := range r.ids {
		if c.hasToken {
			dst = append(dst, c.token)
		}
	}
	return dst
}

// isStatelessReset reports whether the last 16 bytes of a datagram match a
// token of any CID the peer gave us (RFC 9000 §10.3.1).
func (r *remoteCIDs) isStatelessReset(datagram []byte) bool {
	if len(datagram) < 21 {
		return false
	}
	tail := datagram[len(datagram)-16:]
	for _, c := range r.ids {
		if c.hasToken && subtle.ConstantTimeCompare(c.token[:], tail) == 1 {
			return true
		}
	}
	return false
}

// TakeResetTokensChanged reports, once, that the peer's reset tokens may
// have changed since the last call, so the endpoint's index needs
// AppendResetTokens again. A stateless reset carries no connection ID of
// ours (RFC 9000 §10.3.1): the endpoint finds its connection by token.
func (c *Conn) TakeResetTokensChanged() bool {
	ch := c.cids.tokensChanged
	c.cids.tokensChanged = false
	return ch
}

// AppendResetTokens appends the reset token of every CID the peer gave us.
func (c *Conn) AppendResetTokens(dst []ResetToken) []ResetToken {
	if c.mp == nil {
		return c.paths[0].remote.appendTokens(dst)
	}
	for _, s := range c.mp.sets {
		dst = s.remote.appendTokens(dst)
	}
	return dst
}
