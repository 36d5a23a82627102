package lookup

import (
	"container/list"
	"sync"

	"github.com/alkdev/irohspoke/identity"
)

// maxRememberedIDs bounds the timestamps a resolver remembers (≈ 100
// bytes each).
const maxRememberedIDs = 4096

// newestSeen remembers the newest packet timestamp seen per endpoint, for
// the most recently resolved maxRememberedIDs endpoints, so a relay (or
// anyone in its path) cannot roll an endpoint back to an older, validly
// signed packet. The zero value is ready to use.
type newestSeen struct {
	mu  sync.Mutex
	ids map[identity.EndpointID]*list.Element // of *seenEntry
	lru list.List
}

type seenEntry struct {
	id identity.EndpointID
	ts uint64
}

// get returns the newest timestamp seen for id (0 if none).
func (n *newestSeen) get(id identity.EndpointID) uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if el, ok := n.ids[id]; ok {
		return el.Value.(*seenEntry).ts
	}
	return 0
}

// observe records ts for id if it is newer than what was seen.
func (n *newestSeen) observe(id identity.EndpointID, ts uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ids == nil {
		n.ids = make(map[identity.EndpointID]*list.Element)
	}
	if el, ok := n.ids[id]; ok {
		e := el.Value.(*seenEntry)
		e.ts = max(e.ts, ts)
		n.lru.MoveToFront(el)
		return
	}
	if n.lru.Len() >= maxRememberedIDs {
		old := n.lru.Remove(n.lru.Back()).(*seenEntry)
		delete(n.ids, old.id)
	}
	n.ids[id] = n.lru.PushFront(&seenEntry{id: id, ts: ts})
}
