package fakegw

import (
	"github.com/alkdev/irohspoke/nat/portmap/natpmp"
	"github.com/alkdev/irohspoke/nat/portmap/pcp"
)

const epoch = 1000

// servePMP answers PCP (version 2) and NAT-PMP (version 0) on one socket,
// like a real gateway's port 5351.
func (s *Server) servePMP() {
	buf := make([]byte, 2048)
	for {
		n, from, err := s.pmp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		req := append([]byte(nil), buf[:n]...)
		var replies [][]byte
		switch {
		case n > 0 && req[0] == pcp.Version && s.cfg.PCP:
			replies = s.hook(s.cfg.PCPReply, req, s.answerPCP(req))
		case n > 0 && req[0] == natpmp.Version && s.cfg.NATPMP:
			replies = s.hook(s.cfg.NATPMPReply, req, s.answerNATPMP(req))
		}
		for _, r := range replies {
			_, _ = s.pmp.WriteToUDPAddrPort(r, from)
		}
	}
}

func (s *Server) hook(h func(req, honest []byte) [][]byte, req, honest []byte) [][]byte {
	if h == nil {
		return [][]byte{honest}
	}
	return h(req, honest)
}

func (s *Server) answerPCP(b []byte) []byte {
	req, err := pcp.ParseRequest(b)
	if err != nil {
		return pcp.Response{Opcode: pcp.OpMap, Result: pcp.MalformedRequest}.Append(nil)
	}
	if req.Opcode == pcp.OpAnnounce {
		s.count("pcp-announce")
		return pcp.Response{Opcode: pcp.OpAnnounce, Epoch: epoch}.Append(nil)
	}
	s.count("pcp-map")
	proto := protoName(req.Map.Protocol == pcp.ProtoUDP)
	ext := s.pickPort(proto, req.Map.InternalPort, req.Map.ExternalPort)
	life := s.grant(req.Lifetime)
	s.setLease(Key{proto, ext}, Lease{Via: "pcp", InternalPort: req.Map.InternalPort, Lifetime: life})
	m := req.Map
	m.ExternalPort, m.ExternalAddr = ext, s.cfg.External
	return pcp.Response{Opcode: pcp.OpMap, Lifetime: life, Epoch: epoch, HasMap: true, Map: m}.Append(nil)
}

func (s *Server) answerNATPMP(b []byte) []byte {
	req, err := natpmp.ParseRequest(b)
	if err != nil {
		return natpmp.Response{Opcode: natpmp.OpExternalAddress, Result: natpmp.UnsupportedOpcode}.Append(nil)[:8]
	}
	if req.Opcode == natpmp.OpExternalAddress {
		s.count("natpmp-addr")
		return natpmp.Response{Opcode: natpmp.OpExternalAddress, Epoch: epoch, ExternalAddr: s.cfg.External}.Append(nil)
	}
	s.count("natpmp-map")
	proto := protoName(req.Opcode == natpmp.OpMapUDP)
	ext := s.pickPort(proto, req.InternalPort, req.SuggestedPort)
	life := s.grant(req.Lifetime)
	s.setLease(Key{proto, ext}, Lease{Via: "natpmp", InternalPort: req.InternalPort, Lifetime: life})
	if life == 0 {
		ext = 0
	}
	return natpmp.Response{Opcode: req.Opcode, Epoch: epoch, InternalPort: req.InternalPort, ExternalPort: ext, Lifetime: life}.Append(nil)
}

// pickPort keeps an existing mapping's port, else takes the suggestion,
// else the internal port.
func (s *Server) pickPort(proto string, internal, suggested uint16) uint16 {
	if p, ok := s.findLease(proto, internal); ok {
		return p
	}
	if suggested != 0 {
		return suggested
	}
	return internal
}

func protoName(udp bool) string {
	if udp {
		return "UDP"
	}
	return "TCP"
}
