package identity

import (
	"errors"
	"testing"
)

func TestNormalizeRelayURL(t *testing.T) {
	cases := map[string]string{
		"http://derp.me.":                    "http://derp.me./",
		"https://use1-1.relay.n0.iroh.link.": "https://use1-1.relay.n0.iroh.link./",
		"HTTPS://Relay.Example.COM":          "https://relay.example.com/",
		"https://example.com":                "https://example.com/",
		"https://h:443":                      "https://h/",
		"https://h:0443/":                    "https://h/",
		"http://h:80/":                       "http://h/",
		"http://h:443/":                      "http://h:443/",
		"ws://h:80":                          "ws://h/",
		"wss://h:443/x":                      "wss://h/x",
		"wss://h:8443":                       "wss://h:8443/",
		"http://h:":                          "http://h/",
		"http://127.1":                       "http://127.0.0.1/",
		"http://0x7f.0.0.1:3340":             "http://127.0.0.1:3340/",
		"http://0177.0.0.1":                  "http://127.0.0.1/",
		"http://2130706433":                  "http://127.0.0.1/",
		"http://1.2.3.4.":                    "http://1.2.3.4/",
		"http://[::FFFF:1.2.3.4]:1/":         "http://[::ffff:102:304]:1/",
		"http://[2001:db8:0:0:1:0:0:1]":      "http://[2001:db8::1:0:0:1]/",
		"http://[0:0:1::]":                   "http://[0:0:1::]/",
		"http://[1:0:2:3:4:5:6:7]":           "http://[1:0:2:3:4:5:6:7]/",
		"http://[::]":                        "http://[::]/",
		"http://ex%41mple.com":               "http://example.com/",
		"http://a..b":                        "http://a..b/",
		"http://h/a/./b/../c":                "http://h/a/c",
		"http://h/..":                        "http://h/",
		"http://h/a/%2E":                     "http://h/a/",
		"http://h/a/%2e%2E/b":                "http://h/b",
		"http://h//x/":                       "http://h//x/",
		`http:\\h\x`:                         "http://h/x",
		"http:h":                             "http://h/",
		"http:///x":                          "http://x/",
		" http://h/\t":                       "http://h/",
		"ht\ntp://h":                         "http://h/",
		"http://h?x":                         "http://h/?x",
		"http://h/?":                         "http://h/?",
		"http://h#":                          "http://h/#",
		"http://h/a b?c d'#e`f":              "http://h/a%20b?c%20d%27#e%60f",
		"http://h/{é}":                       "http://h/%7B%C3%A9%7D",
		"http://h/%zz":                       "http://h/%zz",
	}
	for in, want := range cases {
		got, err := NormalizeRelayURL(in)
		if err != nil || got != want {
			t.Errorf("NormalizeRelayURL(%q) = %q, %v; want %q", in, got, err, want)
			continue
		}
		if again, err := NormalizeRelayURL(got); err != nil || again != got {
			t.Errorf("not idempotent: %q -> %q, %v", got, again, err)
		}
	}
}

func TestNormalizeRelayURLRejects(t *testing.T) {
	cases := map[string]error{
		"":                        ErrInvalidRelayURL,
		"relay.example.com":       ErrInvalidRelayURL,
		"/relay":                  ErrInvalidRelayURL,
		"//relay.example.com":     ErrInvalidRelayURL,
		"1http://h":               ErrInvalidRelayURL,
		"http://":                 ErrInvalidRelayURL,
		"http://:80":              ErrInvalidRelayURL,
		"http://h:99999":          ErrInvalidRelayURL,
		"http://h:8o":             ErrInvalidRelayURL,
		"http://h:1:2":            ErrInvalidRelayURL,
		"http://1.2.3.256":        ErrInvalidRelayURL,
		"http://1.2.3.4.5":        ErrInvalidRelayURL,
		"http://foo.123":          ErrInvalidRelayURL,
		"http://foo.0x":           ErrInvalidRelayURL,
		"http://09.1.1.1":         ErrInvalidRelayURL,
		"http://[::1":             ErrInvalidRelayURL,
		"http://[1.2.3.4]":        ErrInvalidRelayURL,
		"http://[fe80::1%25eth0]": ErrInvalidRelayURL,
		"http://a b":              ErrInvalidRelayURL,
		"http://a%20b":            ErrInvalidRelayURL,
		"http://a<b":              ErrInvalidRelayURL,
		"http://a%":               ErrInvalidRelayURL,
		"localhost:8080":          ErrUnsupportedAddr,
		"ftp://h":                 ErrUnsupportedAddr,
		"file:///etc/passwd":      ErrUnsupportedAddr,
		"quic://h":                ErrUnsupportedAddr,
		"http://user@h":           ErrUnsupportedAddr,
		"http://bücher.example":   ErrUnsupportedAddr,
		"http://b%C3%BCcher.de":   ErrUnsupportedAddr,
	}
	for in, want := range cases {
		if got, err := NormalizeRelayURL(in); !errors.Is(err, want) {
			t.Errorf("NormalizeRelayURL(%q) = %q, %v; want %v", in, got, err, want)
		}
	}
}
