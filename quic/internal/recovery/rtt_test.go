package recovery

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const ms = time.Millisecond

func TestRTTInitial(t *testing.T) {
	r := NewRTT(0)
	if r.Smoothed() != 333*ms || r.Variance() != 166500*time.Microsecond || r.HasSample() || r.Min() != 0 {
		t.Fatalf("initial: %+v", r)
	}
	// PTO = 333 + 4·166.5 = 999 ms.
	if r.PTO() != 999*ms {
		t.Fatalf("initial PTO %v", r.PTO())
	}
	if r := NewRTT(100 * ms); r.Smoothed() != 100*ms || r.Variance() != 50*ms {
		t.Fatalf("custom initial: %+v", r)
	}
}

func TestRTTUpdateHandComputed(t *testing.T) {
	r := NewRTT(0)
	// First sample: ack delay ignored, rttvar = sample/2.
	r.Update(t0, 100*ms, 10*ms, 25*ms, true)
	check := func(step string, smoothed, variance, minRTT time.Duration) {
		t.Helper()
		if r.Smoothed() != smoothed || r.Variance() != variance || r.Min() != minRTT {
			t.Fatalf("%s: smoothed %v var %v min %v, want %v %v %v",
				step, r.Smoothed(), r.Variance(), r.Min(), smoothed, variance, minRTT)
		}
	}
	check("first", 100*ms, 50*ms, 100*ms)
	// 120 ≥ 100+10 → adjusted 110; rttvar = (3·50+10)/4 = 40;
	// smoothed = (7·100+110)/8 = 101.25.
	r.Update(t0, 120*ms, 10*ms, 25*ms, true)
	check("second", 101250*time.Microsecond, 40*ms, 100*ms)
	// 105 < 100+20 → delay not subtracted; rttvar = (3·40+3.75)/4;
	// smoothed = (7·101.25+105)/8.
	r.Update(t0, 105*ms, 20*ms, 25*ms, true)
	check("third", 101718750*time.Nanosecond, 30937500*time.Nanosecond, 100*ms)
	// A lower sample moves min_rtt without ack-delay adjustment.
	r.Update(t0, 90*ms, 0, 25*ms, true)
	if r.Min() != 90*ms || r.Latest() != 90*ms {
		t.Fatalf("min %v latest %v", r.Min(), r.Latest())
	}
}

func TestRTTAckDelayCapOnlyAfterConfirmation(t *testing.T) {
	for _, tc := range []struct {
		confirmed bool
		want      time.Duration // adjusted sample
	}{
		{true, 200*ms - 25*ms},  // capped at max_ack_delay
		{false, 200*ms - 80*ms}, // peer's value used as reported
	} {
		r := NewRTT(0)
		r.Update(t0, 100*ms, 0, 25*ms, tc.confirmed)
		r.Update(t0, 200*ms, 80*ms, 25*ms, tc.confirmed)
		want := (7*100*ms + tc.want) / 8
		if r.Smoothed() != want {
			t.Errorf("confirmed=%v: smoothed %v, want %v", tc.confirmed, r.Smoothed(), want)
		}
	}
}

func TestRTTLossDelay(t *testing.T) {
	r := NewRTT(0)
	r.Update(t0, 80*ms, 0, 0, true)
	if r.lossDelay() != 90*ms {
		t.Fatalf("loss delay %v, want 9/8·80", r.lossDelay())
	}
	r = NewRTT(0)
	r.Update(t0, 100*time.Microsecond, 0, 0, true)
	if r.lossDelay() != Granularity {
		t.Fatalf("loss delay %v, want granularity", r.lossDelay())
	}
	r.ResetInitial(time.Second) // has a sample: ignored
	if r.Smoothed() != 100*time.Microsecond {
		t.Fatal("ResetInitial overwrote a sampled estimator")
	}
}
