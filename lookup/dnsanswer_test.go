package lookup

import (
	"errors"
	"strings"
	"testing"
)

// TestOversizeTXTAnswerRefused: hundreds of relay= records in one answer
// (over TCP, where size is no limit) are refused rather than handed on,
// since no published iroh record can be that large.
func TestOversizeTXTAnswerRefused(t *testing.T) {
	const name = "_iroh.x.dns.test"
	answer := func(n int) []byte {
		m := Message{ID: 9, Flags: FlagResponse, Questions: []Question{{Name: name, Type: TypeTXT, Class: ClassIN}}}
		for i := 0; i < n; i++ {
			m.Answers = append(m.Answers, Record{Name: name, Type: TypeTXT, Class: ClassIN, TTL: 30, Data: TXTData("relay=https://" + strings.Repeat("r", 20) + ".example/")})
		}
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if got, err := parseTXTAnswer(answer(3), 9, name); err != nil || len(got.records) != 3 {
		t.Fatalf("a small answer: %v, %d records", err, len(got.records))
	}
	got, err := parseTXTAnswer(answer(300), 9, name)
	if !errors.Is(err, ErrMessageTooLarge) || len(got.records) != 0 {
		t.Fatalf("300 records: %v, %d records", err, len(got.records))
	}
}
