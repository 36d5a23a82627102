// Package slot delivers the newest value through a channel of capacity
// one, so a slow reader skips to the latest instead of blocking the writer.
package slot

// Put sends v on ch, replacing a value not read yet. merge, if not nil,
// combines that unread value with v first. Only one goroutine may Put on
// a given channel.
func Put[T any](ch chan T, v T, merge func(unread, v T) T) {
	for {
		select {
		case ch <- v:
			return
		default:
		}
		select {
		case unread := <-ch:
			if merge != nil {
				v = merge(unread, v)
			}
		default:
		}
	}
}
