package endpoint

import (
	"net/netip"
	"slices"
	"time"

	"github.com/alkdev/irohspoke/quic"
)

// Path selection follows iroh's biased-RTT selector: any validated direct
// path beats a relay path; among paths of the same kind an IPv6 path gets
// a small RTT bonus, and the current path is only replaced by one that is
// clearly faster, so that RTT noise does not make the data path flap.
const (
	// ipv6Bias is subtracted from an IPv6 path's RTT when comparing.
	ipv6Bias = 3 * time.Millisecond
	// switchHysteresis is how much faster (biased) a path of the same kind
	// must be to replace the current one.
	switchHysteresis = 5 * time.Millisecond
	// goodDirectRTT: with a direct path this fast, periodic hole-punching
	// rounds stop (iroh's threshold).
	goodDirectRTT = 10 * time.Millisecond
)

// usablePath reports whether p can carry data now.
func usablePath(p quic.PathInfo) bool { return p.Validated && !p.Abandoned }

// biasedRTT is the RTT used to rank paths of the same kind.
func biasedRTT(p quic.PathInfo) time.Duration {
	if !p.Addr.IsRelay() && p.Addr.UDP.Addr().Unmap().Is6() {
		return p.RTT - ipv6Bias
	}
	return p.RTT
}

// better reports whether a ranks before b, ignoring hysteresis: direct
// before relay, then lower biased RTT, then lower path ID (stable).
func better(a, b quic.PathInfo) bool {
	if ar, br := a.Addr.IsRelay(), b.Addr.IsRelay(); ar != br {
		return br
	}
	if ra, rb := biasedRTT(a), biasedRTT(b); ra != rb {
		return ra < rb
	}
	return a.ID < b.ID
}

// selectPath picks the path that should carry data. cur is the path
// selected before (haveCur false if none); it is kept unless it is no
// longer usable, a direct path appeared while it is a relay path, or a
// path of its kind is faster by more than switchHysteresis. ok is false
// when no path is usable.
func selectPath(paths []quic.PathInfo, cur quic.PathID, haveCur bool) (quic.PathID, bool) {
	var best, current quic.PathInfo
	found, curOK := false, false
	for _, p := range paths {
		if !usablePath(p) {
			continue
		}
		if haveCur && p.ID == cur {
			current, curOK = p, true
		}
		if !found || better(p, best) {
			best, found = p, true
		}
	}
	if !found {
		return 0, false
	}
	if curOK && current.Addr.IsRelay() == best.Addr.IsRelay() &&
		biasedRTT(best)+switchHysteresis >= biasedRTT(current) {
		return current.ID, true
	}
	return best.ID, true
}

// redundantDirect lists the usable direct paths other than chosen: a
// client keeps one direct path (and its relay paths as backups) and
// closes the rest, as iroh does.
func redundantDirect(paths []quic.PathInfo, chosen quic.PathID) []quic.PathID {
	var out []quic.PathID
	for _, p := range paths {
		if p.ID != chosen && usablePath(p) && !p.Addr.IsRelay() {
			out = append(out, p.ID)
		}
	}
	return out
}

// hasGoodDirect reports whether a usable direct path is fast enough that
// periodic hole punching would gain nothing.
func hasGoodDirect(paths []quic.PathInfo) bool {
	for _, p := range paths {
		if usablePath(p) && !p.Addr.IsRelay() && p.RTT <= goodDirectRTT {
			return true
		}
	}
	return false
}

// pathInfo finds id in paths.
func pathInfo(paths []quic.PathInfo, id quic.PathID) (quic.PathInfo, bool) {
	for _, p := range paths {
		if p.ID == id {
			return p, true
		}
	}
	return quic.PathInfo{}, false
}

// allOpen reports whether every address in remote has a usable direct
// path.
func allOpen(remote []netip.AddrPort, paths []quic.PathInfo) bool {
	for _, ap := range remote {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if !slices.ContainsFunc(paths, func(p quic.PathInfo) bool {
			return usablePath(p) && !p.Addr.IsRelay() &&
				netip.AddrPortFrom(p.Addr.UDP.Addr().Unmap(), p.Addr.UDP.Port()) == ap
		}) {
			return false
		}
	}
	return true
}
