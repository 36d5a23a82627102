package main

import (
	"encoding/json"
	"testing"
)

func TestTicketDecode(t *testing.T) {
	tests := []struct {
		ticket, want string
	}{
		{t2Ticket, `{"endpointId":"` + k1Public + `","relayUrl":"https://use1-1.relay.n0.iroh.link./","addrs":["1.2.3.4:5678","[2001:db8::1]:443"]}`},
		{t1Ticket, `{"endpointId":"ae58ff8833241ac82d6ff7611046ed67b5072d142c588d0063e942d9a75502b6","relayUrl":"http://derp.me./","addrs":["127.0.0.1:1024"]}`},
		{t3Ticket, `{"endpointId":"` + k1Public + `","relayUrl":null,"addrs":[]}`},
		{hubTicket, `{"endpointId":"` + hubID + `","relayUrl":null,"addrs":["127.0.0.1:7777"]}`},
	}
	for _, tt := range tests {
		r := cli(t, "", "ticket", "decode", tt.ticket)
		wantOK(t, r, tt.ticket)
		if r.stdout != tt.want+"\n" {
			t.Errorf("decode %s =\n %s want %s", tt.ticket, r.stdout, tt.want)
		}
	}
	r := cli(t, hubTicket+"\n", "ticket", "decode", "-")
	wantOK(t, r, "stdin")
	if r.stdout != tests[3].want+"\n" {
		t.Errorf("decode from stdin = %s", r.stdout)
	}
}

func TestTicketEncode(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		// iroh normalises the relay URL and sorts the addresses; so do we.
		{[]string{"--id", k1Public, "--addr", "[2001:db8::1]:443", "--relay", "https://use1-1.relay.n0.iroh.link.", "--addr", "1.2.3.4:5678"}, t2Ticket},
		{[]string{"--id", k1Public}, t3Ticket},
		{[]string{"-id=" + hubID, "-addr=127.0.0.1:7777"}, hubTicket},
	}
	for _, tt := range tests {
		args := append([]string{"ticket", "encode"}, tt.args...)
		r := cli(t, "", args...)
		wantOK(t, r, args...)
		if r.stdout != tt.want+"\n" {
			t.Errorf("irohspoke %q = %s, want %s", args, r.stdout, tt.want)
		}
	}
}

func TestTicketRoundTripSeveralRelays(t *testing.T) {
	enc := cli(t, "", "ticket", "encode", "--id", k2Public,
		"--relay", "https://b.example/", "--relay", "https://a.example", "--addr", "10.0.0.1:1", "--addr", "[::1]:2")
	wantOK(t, enc, "encode")
	dec := cli(t, "", "ticket", "decode", enc.stdout[:len(enc.stdout)-1])
	wantOK(t, dec, "decode")
	var got map[string]any
	if err := json.Unmarshal([]byte(dec.stdout), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"endpointId": k2Public,
		"relayUrl":   "https://a.example/",
		"relayUrls":  []any{"https://a.example/", "https://b.example/"},
		"addrs":      []any{"10.0.0.1:1", "[::1]:2"},
	}
	if b1, b2 := mustJSON(t, got), mustJSON(t, want); b1 != b2 {
		t.Errorf("decoded %s, want %s", b1, b2)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
