package core

import (
	"container/heap"
	"context"
	"runtime/pprof"
	"testing"
	"time"
)

// BenchmarkServerFinalFlight: a server's CPU from the client's final
// flight to the packets it then sends, HANDSHAKE_DONE first: the part of
// a relayed client's wait for confirmation that is ours (profile it with
// -tagfocus phase=final).
func BenchmarkServerFinalFlight(b *testing.B) {
	type prep struct {
		l  *link
		fl []flight
	}
	ps := make([]prep, b.N)
	for i := range ps {
		l := newLinkWith(b, uint64(i+1), func(c, s *Config) {
			natConfig(true)(c, s)
			c.CheckPayloads, s.CheckPayloads = false, false
		})
		l.runUntil(func() bool { return l.client.tls.State().Complete }, 5*time.Second)
		l.flush()
		var fl []flight
		for len(l.queue) > 0 {
			f := heap.Pop(&l.queue).(flight)
			if f.toServer {
				fl = append(fl, f)
			}
		}
		ps[i] = prep{l, fl}
	}
	b.ResetTimer()
	pprof.Do(context.Background(), pprof.Labels("phase", "final"), func(context.Context) {
		for i := range ps {
			l := ps[i].l
			for _, f := range ps[i].fl {
				l.server.HandleDatagram(l.now, f.from, 0, f.data)
			}
			for {
				n, _ := l.server.PollTransmit(l.now, l.buf)
				if n == 0 {
					break
				}
			}
		}
	})
}
