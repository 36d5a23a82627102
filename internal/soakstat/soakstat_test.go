package soakstat

import (
	"errors"
	"strings"
	"testing"
)

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tsoak.test\nVmPeak:\t  900 kB\nVmRSS:\t   51234 kB\nThreads:\t9\n"
	got, err := parseVmRSS([]byte(status))
	if err != nil || got != 51234<<10 {
		t.Fatalf("parseVmRSS = %d, %v; want %d", got, err, 51234<<10)
	}
	for _, bad := range []string{"", "VmPeak: 1 kB\n", "VmRSS: 12 MB\n", "VmRSS: x kB\n", "VmRSS: 1 2 kB\n", "VmRSS: 99999999999999999999 kB\n"} {
		if _, err := parseVmRSS([]byte(bad)); !errors.Is(err, ErrNoRSS) {
			t.Errorf("parseVmRSS(%q) error %v, want ErrNoRSS", bad, err)
		}
	}
}

func FuzzParseVmRSS(f *testing.F) {
	f.Add([]byte("VmRSS:\t   51234 kB\n"))
	f.Add([]byte("Name:\tx\nVmRSS: 0 kB"))
	f.Add([]byte("VmRSS: 18446744073709551615 kB\n"))
	f.Add([]byte("VmRSS:kB"))
	f.Fuzz(func(t *testing.T, status []byte) {
		rss, err := parseVmRSS(status)
		if err != nil && !errors.Is(err, ErrNoRSS) {
			t.Fatalf("unexpected error kind %v", err)
		}
		if err == nil && rss%1024 != 0 {
			t.Fatalf("rss %d is not whole kB", rss)
		}
	})
}

func TestMeasureSeesThisProcess(t *testing.T) {
	f, err := Measure()
	if err != nil {
		t.Fatal(err)
	}
	if f.HeapInuse == 0 || f.RSS < f.HeapInuse/2 || f.Goroutines < 1 || f.FDs < 3 {
		t.Fatalf("implausible figures %s", f)
	}
}

func TestCheckFlat(t *testing.T) {
	g := Growth{MemFactor: 1.5, HeapSlack: 100, RSSSlack: 100, GoroutineSlack: 2, FDSlack: 1}
	start := Figures{HeapInuse: 1000, RSS: 2000, Goroutines: 10, FDs: 5}
	if err := g.CheckFlat(start, Figures{HeapInuse: 1600, RSS: 3100, Goroutines: 12, FDs: 6}); err != nil {
		t.Fatalf("within bounds: %v", err)
	}
	err := g.CheckFlat(start, Figures{HeapInuse: 1601, RSS: 3101, Goroutines: 13, FDs: 7})
	for _, name := range []string{"heap", "rss", "goroutines", "fds"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("growth of %s not reported: %v", name, err)
		}
	}
}
