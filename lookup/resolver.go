package lookup

import (
	"context"
	"errors"
	"strings"

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
// the error is a *LookupError listing each distinct failure once.
type Resolvers []Resolver

// Resolve implements Resolver.
func (rs Resolvers) Resolve(ctx context.Context, id identity.EndpointID) (EndpointInfo, error) {
	if len(rs) == 0 {
		return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: id}}, ErrNoResolver
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
	info, errs := firstSuccess(results, len(rs))
	if errs == nil {
		return info, nil
	}
	errs = unique(errs)
	if len(errs) == 1 {
		return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: id}}, errs[0]
	}
	return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: id}}, &LookupError{Errs: errs}
}

// LookupError is the failure of several resolvers, each distinct failure
// once. It matches ErrNotFound (errors.Is) only if every resolver said
// so, and any other error if one of them matches it.
type LookupError struct {
	Errs []error
}

func (e *LookupError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

// Is implements errors.Is.
func (e *LookupError) Is(target error) bool {
	if target == ErrNotFound {
		for _, err := range e.Errs {
			if !errors.Is(err, ErrNotFound) {
				return false
			}
		}
		return len(e.Errs) > 0
	}
	for _, err := range e.Errs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// As implements errors.As over the listed errors.
func (e *LookupError) As(target any) bool {
	for _, err := range e.Errs {
		if errors.As(err, target) {
			return true
		}
	}
	return false
}

// result is one lookup attempt's outcome.
type result struct {
	info EndpointInfo
	err  error
}

// firstSuccess collects up to n results and returns the first success, or
// every error if none succeeded.
func firstSuccess(results <-chan result, n int) (EndpointInfo, []error) {
	errs := make([]error, 0, n)
	for range n {
		res := <-results
		if res.err == nil {
			return res.info, nil
		}
		errs = append(errs, res.err)
	}
	return EndpointInfo{}, errs
}

// summarizeAttempts reduces the failures of one resolver's attempts to
// one error: a definitive answer (not found, then refused) outranks the
// timeouts and I/O errors of other attempts, and repeated failures count
// once.
func summarizeAttempts(errs []error) error {
	for _, definitive := range []error{ErrNotFound, ErrRefused} {
		for _, err := range errs {
			if errors.Is(err, definitive) {
				return err
			}
		}
	}
	errs = unique(errs)
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// unique drops errors whose message repeats an earlier one's, and bare
// context errors (attempts that never ran) when there are others.
func unique(errs []error) []error {
	seen := make(map[string]bool, len(errs))
	out := make([]error, 0, len(errs))
	bare := func(err error) bool { return err == context.Canceled || err == context.DeadlineExceeded }
	for _, err := range errs {
		if bare(err) && !all(errs, bare) {
			continue
		}
		if msg := err.Error(); !seen[msg] {
			seen[msg] = true
			out = append(out, err)
		}
	}
	return out
}

func all(errs []error, pred func(error) bool) bool {
	for _, err := range errs {
		if !pred(err) {
			return false
		}
	}
	return true
}
