package core

// datagramQueue holds unreliable datagrams (RFC 9221) both ways.
type datagramQueue struct {
	in, out [][]byte
	peerMax uint64 // the peer's max_datagram_frame_size; 0: it takes none
}

// received queues an incoming datagram, dropping the oldest when full
// (as noq does).
func (q *datagramQueue) received(d []byte) {
	if len(q.in) >= maxDatagramQueue {
		q.in = q.in[1:]
	}
	q.in = append(q.in, append([]byte(nil), d...))
}

// dropLargerThan discards queued outgoing datagrams that no longer fit
// in a packet after the MTU shrank; they would block the queue.
func (q *datagramQueue) dropLargerThan(limit int) {
	kept := q.out[:0]
	for _, d := range q.out {
		if len(d) <= limit {
			kept = append(kept, d)
		}
	}
	q.out = kept
}

// Datagrams is the datagram API of a connection, from Conn.Datagrams.
type Datagrams struct{ c *Conn }

// Datagrams returns the connection's datagram API.
func (c *Conn) Datagrams() Datagrams { return Datagrams{c} }

// MaxSize is the largest datagram payload Send accepts now.
func (d Datagrams) MaxSize() int { return d.c.maxDatagramPayload() }

// maxDatagramPayload is what fits in one 1-RTT packet of the data path:
// short header, packet number, AEAD tag, frame header.
func (c *Conn) maxDatagramPayload() int {
	if c.dgrams.peerMax == 0 {
		return 0
	}
	p := c.paths.primary()
	if !p.remote.usable() {
		return 0
	}
	room := p.rec.MaxDatagramSize() - (1 + len(p.remote.active()) + maxPNLen + 16 + 1 + 8)
	return int(min(uint64(room), c.dgrams.peerMax-1-8))
}

// Send queues an unreliable datagram.
func (d Datagrams) Send(p []byte) error {
	c := d.c
	if err := c.usable(); err != nil {
		return err
	}
	if c.dgrams.peerMax == 0 {
		return ErrDatagramsDisabled
	}
	if len(p) > c.maxDatagramPayload() {
		return ErrDatagramTooLarge
	}
	if len(c.dgrams.out) >= maxDatagramQueue {
		return ErrDatagramQueueFull
	}
	c.dgrams.out = append(c.dgrams.out, append([]byte(nil), p...))
	return nil
}

// Recv returns the oldest received datagram, if any.
func (d Datagrams) Recv() ([]byte, bool) {
	q := &d.c.dgrams
	if len(q.in) == 0 {
		return nil, false
	}
	b := q.in[0]
	q.in = q.in[1:]
	return b, true
}
