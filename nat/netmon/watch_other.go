//go:build !linux

package netmon

import "time"

// pollWatcher pokes at a fixed interval: the state is compared anyway.
type pollWatcher struct{ stop chan struct{} }

func startWatcher(poke func(), every time.Duration) (watcher, error) {
	w := &pollWatcher{stop: make(chan struct{})}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				poke()
			case <-w.stop:
				return
			}
		}
	}()
	return w, nil
}

func (w *pollWatcher) close() error {
	close(w.stop)
	return nil
}
