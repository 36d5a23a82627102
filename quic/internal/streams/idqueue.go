package streams

// idQueue is a FIFO of stream IDs that reuses its backing array, so steady
// scheduling allocates nothing.
type idQueue struct {
	ids  []StreamID
	head int
}

func (q *idQueue) len() int { return len(q.ids) - q.head }

func (q *idQueue) push(id StreamID) { q.ids = append(q.ids, id) }

func (q *idQueue) front() StreamID { return q.ids[q.head] }

func (q *idQueue) pop() StreamID {
	id := q.ids[q.head]
	q.head++
	switch {
	case q.head == len(q.ids):
		q.ids, q.head = q.ids[:0], 0
	case q.head >= 64 && q.head >= len(q.ids)/2:
		n := copy(q.ids, q.ids[q.head:])
		q.ids, q.head = q.ids[:n], 0
	}
	return id
}
