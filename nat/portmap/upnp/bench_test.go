package upnp

import "testing"

func BenchmarkParseSOAPResponse(b *testing.B) {
	body := []byte(soapBody(`<u:AddAnyPortMappingResponse xmlns:u="x"><NewReservedPort>40000</NewReservedPort></u:AddAnyPortMappingResponse>`))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSOAPResponse(body, "AddAnyPortMapping"); err != nil {
			b.Fatal(err)
		}
	}
}
