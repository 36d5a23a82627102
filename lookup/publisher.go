package lookup

import (
	"context"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// Publishing cadence, as iroh's pkarr publisher.
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
// (PUT <BaseURL>/<z32>): at once on every change, every
// RepublishInterval while unchanged, and after k × RetryUnit following k
// consecutive failures. Set the fields before the first Update.
type PkarrPublisher struct {
	BaseURL           string
	Key               identity.SecretKey
	Client            *http.Client  // nil means http.DefaultClient
	TTL               uint32        // DefaultTTL if 0
	RepublishInterval time.Duration // DefaultRepublishInterval if 0
	RetryUnit         time.Duration // DefaultRetryUnit if 0
	// OnPublish, if set, is called after every attempt from the
	// publisher's goroutine.
	OnPublish func(info EndpointInfo, err error)

	once    sync.Once
	mu      sync.Mutex
	want    *EndpointInfo
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
	sp, err := SignEndpointInfo(p.Key, info, Now(), ttl)
	if err != nil {
		return err
	}
	return PutPacket(ctx, p.Client, p.BaseURL, sp)
}

// Update sets the info to publish; a change is published at once.
func (p *PkarrPublisher) Update(info EndpointInfo) {
	p.once.Do(p.start)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || (p.want != nil && reflect.DeepEqual(*p.want, info)) {
		return
	}
	p.want = &info
	select {
	case p.wake <- struct{}{}:
	default:
	}
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

func (p *PkarrPublisher) run() {
	defer close(p.stopped)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-p.stop
		cancel()
	}()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	failures := 0
	for {
		select {
		case <-p.stop:
			return
		case <-p.wake:
			failures = 0
		case <-timer.C:
		}
		p.mu.Lock()
		want := p.want
		p.mu.Unlock()
		if want == nil {
			continue
		}
		pctx, pcancel := context.WithTimeout(ctx, publishTimeout)
		err := p.Publish(pctx, *want)
		pcancel()
		if ctx.Err() != nil {
			return
		}
		if p.OnPublish != nil {
			p.OnPublish(*want, err)
		}
		next := p.republishInterval()
		if err != nil {
			failures++
			next = min(time.Duration(failures)*p.retryUnit(), next)
		} else {
			failures = 0
		}
		timer.Reset(next)
	}
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
