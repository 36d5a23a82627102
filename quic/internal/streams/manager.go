package streams

import (
	"slices"
	"time"
)

// Config holds the local limits a Manager enforces and advertises in our
// transport parameters. Zero fields take the defaults below.
type Config struct {
	// MaxStreamsBidi and MaxStreamsUni: how many concurrent streams of each
	// type the peer may open (initial_max_streams_*). Default 100 (iroh's).
	MaxStreamsBidi, MaxStreamsUni uint64
	// StreamWindow: initial per-stream receive window, advertised as all
	// three initial_max_stream_data_* parameters. Default 1.25 MB (iroh's).
	StreamWindow uint64
	// MaxStreamWindow: auto-tuning cap for stream windows. Default 16 MiB.
	MaxStreamWindow uint64
	// ConnWindow: initial connection receive window (initial_max_data).
	// Default 1.5 × StreamWindow.
	ConnWindow uint64
	// MaxConnWindow: auto-tuning cap for the connection window.
	// Default 1.5 × MaxStreamWindow.
	MaxConnWindow uint64
	// SendBuffer: bytes of unacknowledged data buffered per stream; Write
	// beyond it returns ErrWouldBlock. Default 1 MiB.
	SendBuffer uint64
}

// Defaults used for zero Config fields.
const (
	DefaultMaxStreams      = 100
	DefaultStreamWindow    = 1_250_000
	DefaultMaxStreamWindow = 16 << 20
	DefaultSendBuffer      = 1 << 20
)

func (c Config) withDefaults() Config {
	if c.MaxStreamsBidi == 0 {
		c.MaxStreamsBidi = DefaultMaxStreams
	}
	if c.MaxStreamsUni == 0 {
		c.MaxStreamsUni = DefaultMaxStreams
	}
	if c.StreamWindow == 0 {
		c.StreamWindow = DefaultStreamWindow
	}
	if c.MaxStreamWindow == 0 {
		c.MaxStreamWindow = max(DefaultMaxStreamWindow, c.StreamWindow)
	}
	if c.ConnWindow == 0 {
		c.ConnWindow = c.StreamWindow * 3 / 2
	}
	if c.MaxConnWindow == 0 {
		c.MaxConnWindow = max(c.MaxStreamWindow*3/2, c.ConnWindow)
	}
	if c.SendBuffer == 0 {
		c.SendBuffer = DefaultSendBuffer
	}
	return c
}

// PeerParams are the peer's flow-control transport parameters.
type PeerParams struct {
	InitialMaxData                 uint64
	InitialMaxStreamDataBidiLocal  uint64 // for streams the peer opens
	InitialMaxStreamDataBidiRemote uint64 // for streams we open
	InitialMaxStreamDataUni        uint64
	InitialMaxStreamsBidi          uint64
	InitialMaxStreamsUni           uint64
}

// stream is one stream's two halves; a nil half does not exist for this
// stream type (e.g. no send half on a peer-initiated unidirectional stream).
type stream struct {
	id   StreamID
	send *sendStream
	recv *recvStream

	sendQueued bool // in Manager.sendQueue
	connWait   bool // in Manager.connBlocked
	ctrlQueued bool // in Manager.ctrlQueue
	fcDirty    bool // in Manager.fcDirty (read since last window check)
	readSignal bool // EventReadable emitted, no Read since

	// Control frames owed for this stream.
	needReset, needStop, needMaxData, needBlocked bool
}

// Manager holds all streams of one connection and the connection-level
// flow control. It is not safe for concurrent use; the connection core
// serializes access.
type Manager struct {
	side Side
	cfg  Config

	streams map[StreamID]*stream

	// Locally initiated streams, indexed by Dir.
	nextLocal      [2]uint64 // index of the next stream we open
	maxLocal       [2]uint64 // peer's MAX_STREAMS
	blockedStreams [2]bool   // STREAMS_BLOCKED owed for maxLocal
	blockedSentAt  [2]uint64 // limit the last STREAMS_BLOCKED reported
	blockedEver    [2]bool

	// Remotely initiated streams, indexed by Dir.
	nextRemote     [2]uint64 // one past the highest index the peer opened
	nextAccept     [2]uint64 // next index AcceptStream returns
	maxRemote      [2]uint64 // limit we grant (grows as streams close)
	sentMaxRemote  [2]uint64 // limit last put in a MAX_STREAMS frame
	needMaxStreams [2]bool

	// Connection-level flow control, receive side.
	connRecv     recvWindow
	connHighest  uint64 // sum of highest offsets received over all streams
	needMaxData  bool
	connFCDirty  bool
	streamWindow uint64 // initial window for new streams

	// Connection-level flow control, send side.
	peer          PeerParams
	peerMaxData   uint64
	connSent      uint64 // sum of new bytes sent over all streams
	needDataBlock bool
	dataBlockedAt uint64
	dataBlockSent bool

	rtt time.Duration

	sendQueue   idQueue    // round-robin order of streams with data to send
	connBlocked []StreamID // streams waiting for MAX_DATA
	ctrlQueue   idQueue    // streams owing control frames
	fcDirty     []StreamID // streams read since their last window check
	events      []Event
}

// NewManager creates the stream state for one connection on our side.
func NewManager(side Side, cfg Config) *Manager {
	cfg = cfg.withDefaults()
	m := &Manager{
		side:         side,
		cfg:          cfg,
		streams:      make(map[StreamID]*stream),
		maxRemote:    [2]uint64{cfg.MaxStreamsBidi, cfg.MaxStreamsUni},
		connRecv:     newRecvWindow(cfg.ConnWindow, cfg.MaxConnWindow),
		streamWindow: cfg.StreamWindow,
	}
	m.sentMaxRemote = m.maxRemote
	return m
}

// LocalParams returns the flow-control transport parameters to advertise.
func (m *Manager) LocalParams() PeerParams {
	return PeerParams{
		InitialMaxData:                 m.cfg.ConnWindow,
		InitialMaxStreamDataBidiLocal:  m.cfg.StreamWindow,
		InitialMaxStreamDataBidiRemote: m.cfg.StreamWindow,
		InitialMaxStreamDataUni:        m.cfg.StreamWindow,
		InitialMaxStreamsBidi:          m.cfg.MaxStreamsBidi,
		InitialMaxStreamsUni:           m.cfg.MaxStreamsUni,
	}
}

// SetPeerParams applies the peer's transport parameters. Limits only grow,
// so calling it again (e.g. after 0-RTT) never takes credit back.
func (m *Manager) SetPeerParams(p PeerParams) {
	m.peer = p
	m.raisePeerMaxData(p.InitialMaxData)
	m.raiseMaxLocal(Bidi, p.InitialMaxStreamsBidi)
	m.raiseMaxLocal(Uni, p.InitialMaxStreamsUni)
	// In ID order, so scheduling stays deterministic.
	ids := make([]StreamID, 0, len(m.streams))
	for id, s := range m.streams {
		if s.send != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		s := m.streams[id]
		m.raiseStreamMaxData(s, m.peerInitialWindow(id))
	}
}

// SetRTT gives the smoothed RTT that receive-window auto-tuning uses.
func (m *Manager) SetRTT(rtt time.Duration) { m.rtt = rtt }

func (m *Manager) peerInitialWindow(id StreamID) uint64 {
	switch {
	case id.Dir() == Uni:
		return m.peer.InitialMaxStreamDataUni
	case id.IsLocal(m.side):
		return m.peer.InitialMaxStreamDataBidiRemote
	}
	return m.peer.InitialMaxStreamDataBidiLocal
}

func (m *Manager) newStream(id StreamID) *stream {
	s := &stream{id: id}
	if id.CanSend(m.side) {
		s.send = newSendStream(id, m.peerInitialWindow(id), m.cfg.SendBuffer)
	}
	if id.CanRecv(m.side) {
		s.recv = newRecvStream(id, m.streamWindow, m.cfg.MaxStreamWindow)
	}
	m.streams[id] = s
	return s
}

func (m *Manager) emit(e Event) { m.events = append(m.events, e) }

// PollEvent returns the next event for the API layer.
func (m *Manager) PollEvent() (Event, bool) {
	if len(m.events) == 0 {
		return Event{}, false
	}
	e := m.events[0]
	m.events = m.events[1:]
	if len(m.events) == 0 {
		m.events = nil
	}
	return e, true
}

// maybeForget drops a stream whose halves are both terminal. Forgetting a
// peer-initiated stream returns its slot to the peer via MAX_STREAMS, the
// way noq replenishes stream credit as streams close.
func (m *Manager) maybeForget(s *stream) {
	if s.send != nil && !s.send.done() {
		return
	}
	if s.recv != nil && !s.recv.done() {
		return
	}
	delete(m.streams, s.id)
	if !s.id.IsLocal(m.side) {
		d := s.id.Dir()
		if m.maxRemote[d] < MaxStreamCount {
			m.maxRemote[d]++
			m.needMaxStreams[d] = true
		}
	}
}

// NumStreams is the number of streams with live state.
func (m *Manager) NumStreams() int { return len(m.streams) }

// queueSend puts s in the round-robin queue if it has something to send.
func (m *Manager) queueSend(s *stream) {
	if s.sendQueued || s.send == nil {
		return
	}
	ss := s.send
	if !ss.hasRetransmit() && !ss.finReady() && !ss.announce {
		switch {
		case ss.pendingNew() == 0:
			return
		case ss.streamBlocked():
			m.noteStreamBlocked(s)
			return
		case m.connCredit() == 0:
			m.noteConnBlocked()
			if !s.connWait {
				s.connWait = true
				m.connBlocked = append(m.connBlocked, s.id)
			}
			return
		}
	}
	s.sendQueued = true
	m.sendQueue.push(s.id)
}

func (m *Manager) queueCtrl(s *stream) {
	if !s.ctrlQueued {
		s.ctrlQueued = true
		m.ctrlQueue.push(s.id)
	}
}

func (m *Manager) noteStreamBlocked(s *stream) {
	ss := s.send
	if ss.blockedSent && ss.blockedAt == ss.maxData {
		return // reported once per limit
	}
	ss.blockedSent, ss.blockedAt = true, ss.maxData
	s.needBlocked = true
	m.queueCtrl(s)
}

func (m *Manager) noteConnBlocked() {
	if m.dataBlockSent && m.dataBlockedAt == m.peerMaxData {
		return
	}
	m.dataBlockSent, m.dataBlockedAt = true, m.peerMaxData
	m.needDataBlock = true
}

func (m *Manager) raisePeerMaxData(v uint64) {
	if v <= m.peerMaxData {
		return
	}
	m.peerMaxData = v
	waiting := m.connBlocked
	m.connBlocked = nil
	for _, id := range waiting {
		if s := m.streams[id]; s != nil {
			s.connWait = false
			m.queueSend(s)
		}
	}
}

func (m *Manager) raiseMaxLocal(d Dir, v uint64) {
	if v <= m.maxLocal[d] {
		return
	}
	had := m.maxLocal[d] > m.nextLocal[d]
	m.maxLocal[d] = min(v, MaxStreamCount)
	if !had {
		m.emit(Event{Kind: EventStreamsAvailable, Dir: d})
	}
}

func (m *Manager) raiseStreamMaxData(s *stream, v uint64) {
	if v <= s.send.maxData {
		return
	}
	s.send.maxData = v
	m.queueSend(s)
}

func (m *Manager) connCredit() uint64 {
	if m.peerMaxData <= m.connSent {
		return 0
	}
	return m.peerMaxData - m.connSent
}
