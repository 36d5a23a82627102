package lookup

import (
	"context"
	"errors"

	"github.com/alkdev/irohspoke/identity"
)

// Resolver finds what an endpoint published about itself.
type Resolver interface {
	Resolve(ctx context.Context, id identity.EndpointID) (EndpointInfo, error)
}

// Publisher keeps an endpoint's info published. Update replaces the info
// and returns at once; publishing happens in the background. Close stops
// it.
type Publisher interface {
	Update(info EndpointInfo)
	Close() error
}

// Resolvers asks every resolver at once, as iroh runs its lookup services
// concurrently; the first success wins and cancels the rest. If all fail,
// the error joins theirs (ErrNotFound only if every one said so).
type Resolvers []Resolver

// Resolve implements Resolver.
func (rs Resolvers) Resolve(ctx context.Context, id identity.EndpointID) (EndpointInfo, error) {
	if len(rs) == 0 {
		return EndpointInfo{}, ErrNoResolver
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan result, len(rs))
	for _, r := range rs {
		go func() {
			info, err := r.Resolve(ctx, id)
			results <- result{info, err}
		}()
	}
	return firstSuccess(id, results, len(rs))
}

// result is one lookup attempt's outcome.
type result struct {
	info EndpointInfo
	err  error
}

// firstSuccess collects n results and returns the first success; if all
// failed, ErrNotFound when every attempt said so, else their errors joined.
func firstSuccess(id identity.EndpointID, results <-chan result, n int) (EndpointInfo, error) {
	var errs []error
	allNotFound := true
	for range n {
		res := <-results
		if res.err == nil {
			return res.info, nil
		}
		errs = append(errs, res.err)
		allNotFound = allNotFound && errors.Is(res.err, ErrNotFound)
	}
	if allNotFound {
		return EndpointInfo{ID: id}, ErrNotFound
	}
	return EndpointInfo{ID: id}, errors.Join(errs...)
}
