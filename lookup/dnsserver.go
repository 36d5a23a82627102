package lookup

import (
	"errors"
	"net"
	"strings"

	"github.com/alkdev/irohspoke/identity"
)

const (
	classANY       = 255
	typeHINFO      = 13
	minUDPSize     = 512
	maxDNSQueryLen = 4096
)

// hinfoRFC8482 is the RDATA of the one record answering a QTYPE=ANY
// query (RFC 8482 §4.2): CPU "RFC8482", empty OS.
var hinfoRFC8482 = []byte("\x07RFC8482\x00")

// answerMode says how big an answer may be.
type answerMode int

const (
	modeUDP  answerMode = iota // 512 bytes, or the client's EDNS size up to 1232
	modeTCP                    // 65535 bytes
	modeSlip                   // rate-limited: empty and truncated
)

// ServeDNS answers DNS queries arriving on conn until it is closed (then
// it returns nil). Each query is answered from the store (see HandleDNS),
// within the response rate limit of ServerLimits. With an invalid origin
// it returns that error at once.
func (s *Server) ServeDNS(conn net.PacketConn) error {
	if s.originErr != nil {
		return s.originErr
	}
	buf := make([]byte, maxDNSQueryLen)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return err
			}
			continue // e.g. ICMP errors surfacing on the socket
		}
		mode := modeUDP
		if s.rrl != nil {
			switch s.rrl.decide(addrOf(from), s.now()) {
			case rrlDrop:
				continue
			case rrlSlip:
				mode = modeSlip
			}
		}
		if resp := s.respond(buf[:n], mode); resp != nil {
			conn.WriteTo(resp, from)
		}
	}
}

// HandleDNS returns the response to one DNS query, or nil when no answer
// should be sent (responses, garbage without a header).
//
// The server is authoritative for Origin: "<labels>.<z32>.<Origin>" is
// answered from the newest packet of endpoint <z32>, whose record names
// (relative to the key, e.g. "_iroh.<z32>") are made absolute under
// "<z32>.<Origin>"; every answer gets TTL DefaultTTL whatever the
// publisher set. Unknown keys give NXDOMAIN, names outside the zone
// REFUSED. Answers too large for the client's UDP size (512, or its EDNS
// size up to 1232) are sent empty with the TC bit; the client then asks
// again over TCP (ServeDNSTCP). QTYPE=ANY gets one synthesized HINFO
// record (RFC 8482), so ANY cannot amplify more than TXT.
func (s *Server) HandleDNS(query []byte) []byte { return s.respond(query, modeUDP) }

// respond answers one query; over TCP (RFC 7766) the only size limit is the
// 16-bit length prefix, so nothing is truncated.
func (s *Server) respond(query []byte, mode answerMode) []byte {
	m, err := ParseMessage(query)
	if err != nil {
		if len(query) < dnsHeaderLen || query[2]&0x80 != 0 {
			return nil
		}
		resp := Message{ID: uint16(query[0])<<8 | uint16(query[1]), Flags: FlagResponse | RcodeFormErr}
		b, _ := resp.Pack()
		return b
	}
	if m.Flags&FlagResponse != 0 {
		return nil
	}
	resp := Message{
		ID:        m.ID,
		Flags:     FlagResponse | m.Flags&(FlagRecursionDesired|opcodeMask),
		Questions: m.Questions,
	}
	limit := minUDPSize
	for _, r := range m.Additionals {
		if r.Type == TypeOPT {
			limit = min(max(int(r.Class), minUDPSize), ednsSize)
			resp.Additionals = []Record{{Type: TypeOPT, Class: ednsSize}}
		}
	}
	switch mode {
	case modeTCP:
		limit = maxTCPMessageLen
	case modeSlip:
		limit = 0 // no store lookup, no answers, no OPT: just TC
		resp.Additionals = nil
	}
	switch {
	case limit == 0:
	case m.Flags&opcodeMask != 0:
		resp.Flags |= RcodeNotImp
	case len(m.Questions) != 1:
		resp.Flags |= RcodeFormErr
	default:
		rcode, answers := s.answer(m.Questions[0])
		resp.Flags |= uint16(rcode)
		if rcode != RcodeRefused {
			resp.Flags |= FlagAuthoritative
		}
		resp.Answers = answers
	}
	b, err := resp.Pack()
	if err == nil && len(b) <= limit {
		return b
	}
	resp.Answers = nil
	resp.Flags |= FlagTruncated
	b, _ = resp.Pack()
	return b
}

// answer looks one question up in the store.
func (s *Server) answer(q Question) (rcode int, answers []Record) {
	if q.Class != ClassIN && q.Class != classANY {
		return RcodeRefused, nil
	}
	name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
	var rel string
	switch {
	case s.origin == "":
		return RcodeRefused, nil
	case name == s.origin:
		return RcodeSuccess, nil // the apex exists; we publish nothing there
	case strings.HasSuffix(name, "."+s.origin):
		rel = strings.TrimSuffix(name, "."+s.origin)
	default:
		return RcodeRefused, nil
	}
	z32 := rel[strings.LastIndexByte(rel, '.')+1:]
	id, err := identity.ParseZBase32(z32)
	if err != nil {
		return RcodeNXDomain, nil
	}
	p := s.store.Get(id)
	if p == nil {
		return RcodeNXDomain, nil
	}
	pm, err := ParseMessage(p.DNS)
	if err != nil {
		return RcodeServFail, nil
	}
	for _, rr := range pm.Answers {
		if q.Type != TypeANY && rr.Type != q.Type {
			continue
		}
		if equalName(absoluteName(rr.Name, z32, s.origin), name) {
			answers = append(answers, Record{Name: q.Name, Type: rr.Type, Class: ClassIN, TTL: DefaultTTL, Data: rr.Data})
		}
	}
	if q.Type == TypeANY && len(answers) > 0 {
		answers = []Record{{Name: q.Name, Type: typeHINFO, Class: ClassIN, TTL: DefaultTTL, Data: hinfoRFC8482}}
	}
	return RcodeSuccess, answers
}

// absoluteName places a packet record name under "<z32>.<origin>": a name
// ending in the key's label is relative to the origin, anything else
// relative to the key (pkarr's normalisation).
func absoluteName(name, z32, origin string) string {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	switch {
	case name == "" || name == "@":
		return z32 + "." + origin
	case name == z32 || strings.HasSuffix(name, "."+z32):
		return name + "." + origin
	}
	return name + "." + z32 + "." + origin
}
