package core

import "time"

// pathList is a connection's paths, sorted by path ID; [0] is path 0
// until it is abandoned. On a single-path connection (no multipath
// negotiated) it holds one path without multipath state.
type pathList []*path

// single reports whether the connection runs without multipath.
func (ps pathList) single() bool { return ps[0].mp == nil }

// byID returns the path with id, or nil.
func (ps pathList) byID(id uint64) *path {
	for _, p := range ps {
		if p.id == id {
			return p
		}
	}
	return nil
}

// to returns the live path to addr, if any.
func (ps pathList) to(addr Addr) *path {
	for _, p := range ps {
		if p.addr == addr && (p.mp == nil || !p.mp.abandoned) {
			return p
		}
	}
	return nil
}

// withLocalCID returns the path one of whose CIDs is dcid.
func (ps pathList) withLocalCID(dcid []byte) *path {
	for _, p := range ps {
		if p.local.contains(dcid) {
			return p
		}
	}
	return nil
}

func (ps *pathList) insert(p *path) {
	s := *ps
	i := len(s)
	for i > 0 && s[i-1].id > p.id {
		i--
	}
	s = append(s, nil)
	copy(s[i+1:], s[i:])
	s[i] = p
	*ps = s
}

func (ps *pathList) remove(p *path) {
	for i, q := range *ps {
		if q == p {
			*ps = append((*ps)[:i], (*ps)[i+1:]...)
			return
		}
	}
}

// live counts paths not abandoned.
func (ps pathList) live() int {
	n := 0
	for _, p := range ps {
		if p.mp == nil || !p.mp.abandoned {
			n++
		}
	}
	return n
}

// data is where application data goes: the first validated Available
// path, else the first validated Backup path, else nil.
func (ps pathList) data() *path {
	if ps.single() {
		return ps[0]
	}
	var backup *path
	for _, p := range ps {
		m := p.mp
		if !m.usable || m.abandoned || !p.remote.usable() {
			continue
		}
		if m.status == PathAvailable {
			return p
		}
		if backup == nil {
			backup = p
		}
	}
	return backup
}

// primary is the path whose estimates stand for the connection.
func (ps pathList) primary() *path {
	if p := ps.data(); p != nil {
		return p
	}
	return ps[0]
}

// fallback carries connection frames under multipath when no path is
// validated: an open path, else an abandoned one that still owes its
// PATH_ABANDON. An open path at its amplification limit comes last: the
// PATH_ABANDON of a path we closed would wait behind it for a validation
// that may never come, and the peer, still sending on the closed path,
// would keep both ends alive.
func (ps pathList) fallback() *path {
	var abandoned, blocked *path
	for _, p := range ps {
		if !p.remote.usable() {
			continue
		}
		switch {
		case !p.mp.abandoned && p.amplificationBudget() >= minSendable:
			return p
		case !p.mp.abandoned:
			if blocked == nil {
				blocked = p
			}
		case abandoned == nil:
			abandoned = p
		}
	}
	if abandoned != nil {
		return abandoned
	}
	return blocked
}

// closing is where CONNECTION_CLOSE goes.
func (ps pathList) closing() *path {
	if p := ps.data(); p != nil {
		return p
	}
	return ps.fallback()
}

// maxPTO is the largest probe timeout of any path.
func (ps pathList) maxPTO() time.Duration {
	var d time.Duration
	for _, p := range ps {
		d = max(d, p.rec.ProbeTimeout())
	}
	return d
}

// onLoopback reports whether any path leads to a loopback address.
func (ps pathList) onLoopback() bool {
	for _, p := range ps {
		if p.addr.UDP.Addr().Unmap().IsLoopback() {
			return true
		}
	}
	return false
}
