package pcp

import "testing"

func BenchmarkParseResponse(b *testing.B) {
	msg := Response{Opcode: OpMap, Lifetime: 120, HasMap: true, Map: sampleMap()}.Append(nil)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseResponse(msg); err != nil {
			b.Fatal(err)
		}
	}
}
