package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

// irohClientParams is the value of extension 0x39 as iroh's ClientHello
// sends it (ground-truth.md §2.3), including noq's GREASE parameter.
func irohClientParams() []byte {
	var b []byte
	add := func(id uint64, v string) {
		val, _ := hex.DecodeString(v)
		b = AppendVarint(b, id)
		b = AppendVarint(b, uint64(len(val)))
		b = append(b, val...)
	}
	add(0x01, "80007530")
	add(0x03, "45c0")
	add(0x04, "ffffffffffffffff")
	add(0x05, "801312d0")
	add(0x06, "801312d0")
	add(0x07, "801312d0")
	add(0x08, "4064")
	add(0x09, "4064")
	add(0x0e, "05")
	add(0x0f, "62f3ff66b0b5eda7")
	add(0x20, "8000ffff")
	add(0x3e, "07")
	add(0xff04de1b, "43e8")
	add(0x3d7f91120401, "20")
	add(0xb0cb1d477b801e7, "0102030405") // GREASE
	return b
}

func TestIrohClientParameters(t *testing.T) {
	p, err := UnmarshalTransportParameters(irohClientParams(), RoleClient)
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxIdleTimeout != 30000 || p.MaxUDPPayloadSize != 1472 || p.InitialMaxData != MaxVarint ||
		p.InitialMaxStreamDataBidiLocal != 1250000 || p.InitialMaxStreamsUni != 100 ||
		p.ActiveConnectionIDLimit != 5 || p.MaxDatagramFrameSize != 65535 ||
		!p.HasInitialMaxPathID || p.InitialMaxPathID != 7 || !p.HasMinAckDelay || p.MinAckDelay != 1000 ||
		p.MaxRemoteNATAddresses != 32 || p.AckDelayExponent != 3 || p.MaxAckDelay != 25 ||
		hex.EncodeToString(p.InitialSourceConnectionID) != "62f3ff66b0b5eda7" {
		t.Fatalf("%+v", p)
	}
	if !IsGreaseParameter(0xb0cb1d477b801e7) || IsGreaseParameter(0x3e) {
		t.Error("GREASE detection wrong")
	}
	// Our marshaling is the same set of bytes, minus GREASE (order aside):
	// every parameter uses the shortest encoding, as iroh's does.
	enc := p.Marshal(nil)
	if want := len(irohClientParams()) - (8 + 1 + 5); len(enc) != want {
		t.Errorf("marshaled %d bytes, want %d", len(enc), want)
	}
	if !bytes.Contains(enc, []byte{0xc0, 0, 0x3d, 0x7f, 0x91, 0x12, 0x04, 0x01, 1, 0x20}) ||
		!bytes.Contains(enc, []byte{0xc0, 0, 0, 0, 0xff, 0x04, 0xde, 0x1b, 2, 0x43, 0xe8}) {
		t.Errorf("extension encodings differ from iroh's: %x", enc)
	}
}

func TestTransportParametersRoundTrip(t *testing.T) {
	p := DefaultTransportParameters()
	p.OriginalDestinationConnectionID, p.HasOriginalDestinationConnectionID = []byte{1, 2, 3}, true
	p.InitialSourceConnectionID, p.HasInitialSourceConnectionID = []byte{}, true
	p.RetrySourceConnectionID, p.HasRetrySourceConnectionID = []byte{4, 5}, true
	p.StatelessResetToken, p.HasStatelessResetToken = [16]byte{9: 9}, true
	p.MaxIdleTimeout = 1
	p.AckDelayExponent = 20
	p.MaxAckDelay = 1<<14 - 1
	p.DisableActiveMigration = true
	p.PreferredAddress = &PreferredAddress{
		IPv4:   netip.MustParseAddrPort("192.0.2.1:443"),
		IPv6:   netip.MustParseAddrPort("[2001:db8::2]:8443"),
		ConnID: []byte{7, 7, 7, 7}, ResetToken: [16]byte{1},
	}
	p.ActiveConnectionIDLimit = 8
	p.HasMinAckDelay = true // zero is a meaningful value
	p.HasInitialMaxPathID = true
	p.AddressDiscovery, p.HasAddressDiscovery = AddressDiscoveryReceiveOnly, true
	p.GreaseQUICBit = true
	p.MaxRemoteNATAddresses = 255
	p.Extra = []RawParameter{{ID: 27, Value: []byte("grease")}}

	got, err := UnmarshalTransportParameters(p.Marshal(nil), RoleServer)
	if err != nil {
		t.Fatal(err)
	}
	got.Extra = p.Extra
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("\n got %+v\nwant %+v", got, p)
	}

	// Defaults are omitted entirely.
	def := DefaultTransportParameters()
	if enc := def.Marshal(nil); len(enc) != 0 {
		t.Errorf("defaults encode to %x", enc)
	}
}

func TestTransportParameterRejections(t *testing.T) {
	param := func(id uint64, v ...byte) []byte {
		b := AppendVarint(nil, id)
		b = AppendVarint(b, uint64(len(v)))
		return append(b, v...)
	}
	cases := map[string]struct {
		b    []byte
		from Role
	}{
		"duplicate":                 {append(param(1, 5), param(1, 6)...), RoleClient},
		"duplicate CID":             {append(param(0x0f), param(0x0f)...), RoleClient},
		"duplicate extension":       {append(param(0x3e, 1), param(0x3e, 1)...), RoleClient},
		"value past end":            {[]byte{0x01, 0x04, 0x80}, RoleClient},
		"truncated id":              {[]byte{0x40}, RoleClient},
		"varint shorter than value": {param(1, 5, 0), RoleClient},
		"varint longer than value":  {param(1, 0x80, 0), RoleClient},
		"max_udp_payload_size 1199": {param(3, 0x44, 0xaf), RoleClient},
		"ack_delay_exponent 21":     {param(0x0a, 21), RoleClient},
		"max_ack_delay 2^14":        {param(0x0b, 0x80, 0, 0x40, 0), RoleClient},
		"active_cid_limit 1":        {param(0x0e, 1), RoleClient},
		"streams above 2^60":        {param(0x08, 0xd0, 0, 0, 0, 0, 0, 0, 1), RoleClient},
		"reset token length":        {param(2, 1, 2, 3), RoleServer},
		"disable_migration value":   {param(0x0c, 1), RoleClient},
		"grease_quic_bit value":     {param(0x2ab2, 1), RoleClient},
		"NAT limit zero":            {param(0x3d7f91120401, 0), RoleClient},
		"NAT limit two bytes":       {param(0x3d7f91120401, 0, 32), RoleClient},
		"path id above u32":         {param(0x3e, 0xc0, 0, 0, 1, 0, 0, 0, 0), RoleClient},
		"QAD role 3":                {param(0x9f81a176, 3), RoleClient},
		"CID too long":              {param(0x0f, make([]byte, 21)...), RoleClient},
		"preferred_address short":   {param(0x0d, 1, 2, 3), RoleServer},
		"client sends ODCID":        {param(0x00, 1, 2), RoleClient},
		"client sends reset token":  {param(0x02, make([]byte, 16)...), RoleClient},
		"client sends retry SCID":   {param(0x10, 1), RoleClient},
		"client preferred_address":  {param(0x0d, append(make([]byte, 24), append([]byte{1, 1}, make([]byte, 16)...)...)...), RoleClient},
	}
	// min_ack_delay 26000 µs > max_ack_delay 25 ms.
	cases["min_ack_delay too big"] = struct {
		b    []byte
		from Role
	}{param(0xff04de1b, 0x80, 0, 0x65, 0x90), RoleClient}
	for name, c := range cases {
		_, err := UnmarshalTransportParameters(c.b, c.from)
		if !errors.Is(err, &TransportError{Code: TransportParameterError}) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	// Unknown parameters (any length) are skipped.
	if _, err := UnmarshalTransportParameters(append(param(0x4242, 1, 2, 3), param(0x3d7f91120402)...), RoleClient); err != nil {
		t.Errorf("unknown parameter rejected: %v", err)
	}
}
