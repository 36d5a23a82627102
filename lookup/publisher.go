package lookup

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// Publishing cadence, as iroh's pkarr publisher (see the package doc).
const (
	// DefaultRepublishInterval republishes unchanged info this often.
	DefaultRepublishInterval = 5 * time.Minute
	// DefaultRetryUnit: after k consecutive failures the next attempt
	// waits k units.
	DefaultRetryUnit = time.Second
	// publishTimeout bounds one PUT.
	publishTimeout = 30 * time.Second
)

// PkarrPublisher keeps an endpoint's info published at a pkarr relay
// (PUT <BaseURL>/<z32>) as iroh's does: at once on every change, every
// RepublishInterval while unchanged, and after k × RetryUnit following k
// consecutive failures. Set the fields before the first Update or
// UpdateAddrs; Close stops it.
type PkarrPublisher struct {
	BaseURL string
	Key     identity.SecretKey
	// Client defaults to DefaultHTTPClient.
	Client            *http.Client
	TTL               uint32        // DefaultTTL if 0
	RepublishInterval time.Duration // DefaultRepublishInterval if 0
	RetryUnit         time.Duration // DefaultRetryUnit if 0
	// PublishAddrs makes UpdateAddrs publish direct addresses too; by
	// default it publishes the relay URL only, as iroh.
	PublishAddrs bool
	// UserData is published by UpdateAddrs (at most MaxUserDataLen bytes).
	UserData string
	// Clock defaults to SystemClock.
	Clock Clock
	// OnPublish, if set, is called after every attempt from the
	// publisher's goroutine.
	OnPublish func(info EndpointInfo, err error)

	once    sync.Once
	mu      sync.Mutex
	want    *EndpointInfo
	lastTS  uint64 // the last timestamp signed, to keep them increasing
	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	closed  bool
}

var _ Publisher = (*PkarrPublisher)(nil)

// Publish signs info with a fresh timestamp and PUTs it once.
func (p *PkarrPublisher) Publish(ctx context.Context, info EndpointInfo) error {
	ttl := p.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	sp, err := SignEndpointInfo(p.Key, info, p.timestamp(), ttl)
	if err != nil {
		return err
	}
	return PutPacket(ctx, p.Client, p.BaseURL, sp)
}

// timestamp is the clock's time in µs, above any timestamp signed before
// (a relay keeps only a newer packet).
func (p *PkarrPublisher) timestamp() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastTS = max(uint64(max(p.clock().Now().UnixMicro(), 0)), p.lastTS+1)
	return p.lastTS
}

// UpdateAddrs is what the endpoint calls whenever its home relay or
// direct addresses change, like iroh's publish_my_addr: nothing happens
// while it knows neither (and has no UserData); otherwise the relay URL,
// the addresses if PublishAddrs, and UserData are published, at once if
// that differs from what is published.
func (p *PkarrPublisher) UpdateAddrs(relayURL string, addrs []netip.AddrPort) {
	if relayURL == "" && len(addrs) == 0 && p.UserData == "" {
		return
	}
	info := EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: p.Key.Public()}, UserData: p.UserData}
	if relayURL != "" {
		info.Relays = []string{relayURL}
	}
	if p.PublishAddrs {
		info.Addrs = slices.Clone(addrs)
	}
	p.Update(info)
}

// Update sets the info to publish as it is (UpdateAddrs applies iroh's
// filter); a change is published at once, the same info again is not.
func (p *PkarrPublisher) Update(info EndpointInfo) {
	p.once.Do(p.start)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || (p.want != nil && sameRecords(*p.want, info)) {
		return
	}
	p.want = &info
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// sameRecords reports whether a and b publish the same records.
func sameRecords(a, b EndpointInfo) bool {
	ra, errA := a.TXTAttrs()
	rb, errB := b.TXTAttrs()
	if errA != nil || errB != nil {
		return false // let the publish attempt report the problem
	}
	return slices.Equal(ra, rb)
}

// Close stops publishing and waits for the background goroutine.
func (p *PkarrPublisher) Close() error {
	p.once.Do(p.start)
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.stop)
	}
	p.mu.Unlock()
	<-p.stopped
	return nil
}

func (p *PkarrPublisher) start() {
	p.wake = make(chan struct{}, 1)
	p.stop = make(chan struct{})
	p.stopped = make(chan struct{})
	go p.run()
}

// run is iroh's publisher loop: publish the current info if any, arm the
// timer (republish or retry), then wait for a change, the timer or Close.
func (p *PkarrPublisher) run() {
	defer close(p.stopped)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-p.stop
		cancel()
	}()
	timer := p.clock().NewTimer()
	defer timer.Stop()
	failures := 0
	for {
		select {
		case <-p.wake: // the info read below includes that change
		default:
		}
		p.mu.Lock()
		want := p.want
		p.mu.Unlock()
		if want != nil {
			pctx, pcancel := context.WithTimeout(ctx, publishTimeout)
			err := p.Publish(pctx, *want)
			pcancel()
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				failures++
				timer.Reset(time.Duration(failures) * p.retryUnit())
			} else {
				failures = 0
				timer.Reset(p.republishInterval())
			}
			if p.OnPublish != nil {
				p.OnPublish(*want, err)
			}
		}
		select {
		case <-p.stop:
			return
		case <-p.wake:
		case <-timer.C():
		}
	}
}

func (p *PkarrPublisher) clock() Clock {
	if p.Clock != nil {
		return p.Clock
	}
	return SystemClock
}

func (p *PkarrPublisher) republishInterval() time.Duration {
	if p.RepublishInterval > 0 {
		return p.RepublishInterval
	}
	return DefaultRepublishInterval
}

func (p *PkarrPublisher) retryUnit() time.Duration {
	if p.RetryUnit > 0 {
		return p.RetryUnit
	}
	return DefaultRetryUnit
}
