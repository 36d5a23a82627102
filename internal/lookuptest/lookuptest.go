// Package lookuptest lets tests wait for a PkarrPublisher's publish
// instead of polling the lookup server's store.
package lookuptest

import (
	"context"
	"testing"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/lookup"
)

// OnPublished returns an OnPublish callback and a channel that receives
// after each publish the server accepted.
func OnPublished() (func(lookup.EndpointInfo, error), <-chan struct{}) {
	ch := make(chan struct{}, 1)
	return func(_ lookup.EndpointInfo, err error) {
		if err == nil {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}, ch
}

// WaitPublished waits for a publish the server accepted and checks that
// the server now has id.
func WaitPublished(t testing.TB, ctx context.Context, published <-chan struct{}, ls *lookup.Server, id identity.EndpointID) {
	t.Helper()
	select {
	case <-published:
	case <-ctx.Done():
		t.Fatal("never published")
	}
	if ls.Store().Get(id) == nil {
		t.Fatal("published, yet the server does not have it")
	}
}
