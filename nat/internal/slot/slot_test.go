package slot

import "testing"

func TestPut(t *testing.T) {
	ch := make(chan int, 1)
	Put(ch, 1, nil)
	Put(ch, 2, nil)
	if v := <-ch; v != 2 {
		t.Fatalf("got %d, want the newest", v)
	}
	sum := func(a, b int) int { return a + b }
	Put(ch, 3, sum)
	Put(ch, 4, sum)
	if v := <-ch; v != 7 {
		t.Fatalf("merged %d, want 7", v)
	}
	select {
	case v := <-ch:
		t.Fatalf("extra value %d", v)
	default:
	}
}
