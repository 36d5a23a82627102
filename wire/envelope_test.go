package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseEnvelopeValid(t *testing.T) {
	tests := []struct {
		in          string
		typ, id     string
		payload     string // "" means absent (nil)
		wantPayload bool
	}{
		{`{"type":"a","id":"1","payload":{"x":1}}`, "a", "1", `{"x":1}`, true},
		{` { "id" : "1" , "type" : "a" } `, "a", "1", "", false},
		{`{"type":"","id":"","payload":null}`, "", "", `null`, true},
		{`{"type":"t","id":"i","payload":[1, 2 ,3]}`, "t", "i", `[1, 2 ,3]`, true},
		{`{"type":"t","id":"i","payload":"s"}`, "t", "i", `"s"`, true},
		{`{"type":"t","id":"i","payload":-0.5e+10}`, "t", "i", `-0.5e+10`, true},
		{`{"type":"t","id":"i","extra":{"type":1},"payload":true}`, "t", "i", `true`, true},
		{`{"type":"a\"b\\c\/d\n\u00e9\ud83d\ude00","id":"x"}`, "a\"b\\c/d\né😀", "x", "", false},
		{`{"type":"\ud800","id":"\udc00x\ud800\u0041"}`, "\uFFFD", "\uFFFDx\uFFFDA", "", false},
		{`{"\u0074ype":"esc-name","id":"1"}`, "esc-name", "1", "", false},
		{`{"type":"t","id":"i","payload":{"type":"inner","id":5}}`, "t", "i", `{"type":"inner","id":5}`, true},
		{"{\"type\":\"tab\",\"id\":\"\u2028é\"}", "tab", "\u2028é", "", false},
	}
	for _, tt := range tests {
		e, err := ParseEnvelope([]byte(tt.in))
		if err != nil {
			t.Errorf("ParseEnvelope(%s): %v", tt.in, err)
			continue
		}
		if e.Type != tt.typ || e.ID != tt.id || string(e.Payload) != tt.payload || (e.Payload != nil) != tt.wantPayload {
			t.Errorf("ParseEnvelope(%s) = %q %q %q, want %q %q %q", tt.in, e.Type, e.ID, e.Payload, tt.typ, tt.id, tt.payload)
		}
		if err := ValidateEnvelope([]byte(tt.in)); err != nil {
			t.Errorf("ValidateEnvelope(%s): %v", tt.in, err)
		}
		if _, refErr := refParse([]byte(tt.in)); refErr != nil {
			t.Errorf("reference rejects %s: %v", tt.in, refErr)
		}
	}
}

func TestParseEnvelopeErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrInvalidJSON},
		{"   ", ErrInvalidJSON},
		{"\xff", ErrInvalidUTF8},
		{"{\"type\":\"a\xc3\",\"id\":\"1\"}", ErrInvalidUTF8},
		{"{\"type\":\"a\",\"id\":\"1\",\"payload\":\"\xed\xa0\x80\"}", ErrInvalidUTF8}, // UTF-8 encoded surrogate
		{`[]`, ErrInvalidJSON},
		{`"str"`, ErrInvalidJSON},
		{`null`, ErrInvalidJSON},
		{`{`, ErrInvalidJSON},
		{`{"type":"a","id":"1"`, ErrInvalidJSON},
		{`{"type":"a","id":"1"}}`, ErrInvalidJSON},
		{`{"type":"a","id":"1"} x`, ErrInvalidJSON},
		{`{"type":"a","id":"1"}{}`, ErrInvalidJSON},
		{`{"type":"a","id":"1",}`, ErrInvalidJSON},
		{`{"type":"a" "id":"1"}`, ErrInvalidJSON},
		{`{"type" "a"}`, ErrInvalidJSON},
		{`{type:"a","id":"1"}`, ErrInvalidJSON},
		{`{'type':'a'}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":[1,]}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":[1 2]}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":{"k":1,}}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":{"k"}}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":{1:2}}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":[}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":{]}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":01}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":1.}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":.5}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":1e}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":+1}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":-}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":NaN}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":tru}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":nul}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":True}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":"\x"}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":"\u12"}`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":"\u12g4"}`, ErrInvalidJSON},
		{"{\"type\":\"a\",\"id\":\"1\",\"payload\":\"\x01\"}", ErrInvalidJSON},
		{"{\"type\":\"a\tb\",\"id\":\"1\"}", ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":"abc`, ErrInvalidJSON},
		{`{"type":"a","id":"1","payload":"abc\`, ErrInvalidJSON},
		{"{\"type\":\"a\",\"id\":\"1\"}\x00", ErrInvalidJSON},
		{"\ufeff{\"type\":\"a\",\"id\":\"1\"}", ErrInvalidJSON}, // BOM
		{`{}`, ErrMissingType},
		{`{"id":"1"}`, ErrMissingType},
		{`{"type":1,"id":"1"}`, ErrMissingType},
		{`{"type":null,"id":"1"}`, ErrMissingType},
		{`{"type":["a"],"id":"1"}`, ErrMissingType},
		{`{"Type":"a","id":"1"}`, ErrMissingType},
		{`{"type":"a"}`, ErrMissingID},
		{`{"type":"a","id":1}`, ErrMissingID},
		{`{"type":"a","id":{"x":"y"}}`, ErrMissingID},
		{`{"type":"a","type":"b","id":"1"}`, ErrDuplicateKey},
		{`{"type":"a","id":"1","id":"2"}`, ErrDuplicateKey},
		{`{"type":"a","id":"1","payload":1,"payload":2}`, ErrDuplicateKey},
		{`{"type":"a","\u0069d":"1","id":"2"}`, ErrDuplicateKey},
	}
	for _, tt := range tests {
		_, err := ParseEnvelope([]byte(tt.in))
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseEnvelope(%q) = %v, want %v", tt.in, err, tt.want)
		}
		if !IsRecoverable(err) {
			t.Errorf("IsRecoverable(%v) = false", err)
		}
		if verr := ValidateEnvelope([]byte(tt.in)); !errors.Is(verr, tt.want) {
			t.Errorf("ValidateEnvelope(%q) = %v, want %v", tt.in, verr, tt.want)
		}
		if _, refErr := refParse([]byte(tt.in)); !sameClass(err, refErr) {
			t.Errorf("%q: got %v, reference says %v", tt.in, err, refErr)
		}
	}
}

// The nesting limit must match encoding/json's so both accept the same input.
func TestNestingLimit(t *testing.T) {
	for _, depth := range []int{1, 63, 64, 65, 200, maxDepth - 1, maxDepth, maxDepth + 1} {
		payload := strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1)
		if depth == 1 {
			payload = "1"
		}
		in := `{"type":"t","id":"i","payload":` + payload + `}`
		_, err := ParseEnvelope([]byte(in))
		wantOK := json.Valid([]byte(in))
		if (err == nil) != wantOK {
			t.Errorf("depth %d: err = %v, encoding/json valid = %v", depth, err, wantOK)
		}
		if (depth <= maxDepth) != (err == nil) {
			t.Errorf("depth %d: err = %v", depth, err)
		}
	}
	// Mixed objects and arrays deeper than 64 exercise the spilled bit stack.
	var b strings.Builder
	for i := 0; i < 300; i++ {
		if i%2 == 0 {
			b.WriteString(`{"k":`)
		} else {
			b.WriteString(`[0,`)
		}
	}
	b.WriteString("1")
	for i := 299; i >= 0; i-- {
		if i%2 == 0 {
			b.WriteString("}")
		} else {
			b.WriteString("]")
		}
	}
	in := `{"type":"t","id":"i","payload":` + b.String() + `}`
	if _, err := ParseEnvelope([]byte(in)); err != nil {
		t.Fatalf("deep mixed nesting: %v", err)
	}
	bad := strings.Replace(in, "]}", "}}", 1)
	if _, err := ParseEnvelope([]byte(bad)); !errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("mismatched closer at depth: %v", err)
	}
}

func TestParseEnvelopePayloadAliases(t *testing.T) {
	in := []byte(`{"type":"a","id":"1","payload":[1]}`)
	e, err := ParseEnvelope(in)
	if err != nil {
		t.Fatal(err)
	}
	if cap(e.Payload) != len(e.Payload) {
		t.Errorf("payload capacity %d extends past the value", cap(e.Payload))
	}
	in[len(in)-3] = '7'
	if string(e.Payload) != "[7]" {
		t.Errorf("payload %s does not alias the input", e.Payload)
	}
}

func TestGoldenCapture(t *testing.T) {
	for _, tc := range []struct {
		file string
		echo bool
	}{{"testdata/capture-spoke-to-hub.bin", false}, {"testdata/capture-hub-to-spoke.bin", true}} {
		want, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		// Decode the capture, then re-encode it: the bytes must be identical,
		// which shows our encoder matches the Node hub's JSON.stringify output.
		r := NewReader(bytes.NewReader(want), 0)
		var got []byte
		for i := 0; ; i++ {
			e, _, err := r.ReadEnvelope()
			if err != nil {
				if i != 3 || err.Error() != "EOF" {
					t.Fatalf("%s: frame %d: %v", tc.file, i, err)
				}
				break
			}
			if tc.echo {
				if !strings.HasSuffix(e.Type, EchoSuffix) {
					t.Fatalf("echo type %q", e.Type)
				}
			} else if want := (Envelope{Type: "test.msg", ID: e.ID, Payload: e.Payload}); e.Type != want.Type {
				t.Fatalf("type %q", e.Type)
			}
			if got, err = AppendFrame(got, e); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: re-encoded stream differs:\n got %q\nwant %q", tc.file, got, want)
		}
	}
	// The hub's echoes are exactly Echo() of the spoke's frames.
	in, _ := os.ReadFile("testdata/capture-spoke-to-hub.bin")
	out, _ := os.ReadFile("testdata/capture-hub-to-spoke.bin")
	r := NewReader(bytes.NewReader(in), 0)
	var echoes []byte
	for {
		e, _, err := r.ReadEnvelope()
		if err != nil {
			break
		}
		echoes, _ = AppendFrame(echoes, e.Echo())
	}
	if !bytes.Equal(echoes, out) {
		t.Errorf("Echo() does not reproduce the hub's echoes")
	}
}

func TestAppendFrame(t *testing.T) {
	tests := []struct {
		e    Envelope
		want string
	}{
		{Envelope{Type: "a", ID: "1"}, `{"type":"a","id":"1","payload":null}`},
		{Envelope{Type: "a", ID: "1", Payload: []byte{}}, `{"type":"a","id":"1","payload":null}`},
		{Envelope{Type: "a", ID: "1", Payload: []byte(" { \"k\" : [ 1 , \"a b\\\" c\" ] }\n")}, `{"type":"a","id":"1","payload":{"k":[1,"a b\" c"]}}`},
		{Envelope{Type: "q\"\\/\b\f\n\r\t\x00\x1f\x7f", ID: "é😀<>&\u2028"}, `{"type":"q\"\\/\b\f\n\r\t\u0000\u001f` + "\x7f" + `","id":"é😀<>&` + "\u2028" + `","payload":null}`},
	}
	for _, tt := range tests {
		got, err := AppendFrame([]byte("prefix"), tt.e)
		if err != nil {
			t.Errorf("AppendFrame(%+v): %v", tt.e, err)
			continue
		}
		if want := "prefix" + string(frame(tt.want)); string(got) != want {
			t.Errorf("AppendFrame(%+v) =\n %q\nwant %q", tt.e, got, want)
		}
		// The type and id must survive the round trip through encoding/json.
		var ref struct{ Type, ID string }
		if err := json.Unmarshal(got[len("prefix")+4:], &ref); err != nil || ref.Type != tt.e.Type || ref.ID != tt.e.ID {
			t.Errorf("encoding/json reads back %+v, %v", ref, err)
		}
	}
}

func TestAppendFrameErrors(t *testing.T) {
	big := make([]byte, DefaultMaxFrameSize)
	for i := range big {
		big[i] = ' '
	}
	big[0] = '1'
	tests := []struct {
		name string
		e    Envelope
		want error
	}{
		{"bad type utf8", Envelope{Type: "\xff", ID: "1"}, ErrInvalidUTF8},
		{"bad id utf8", Envelope{Type: "a", ID: "a\xed\xa0\x80"}, ErrInvalidUTF8},
		{"bad payload utf8", Envelope{Type: "a", ID: "1", Payload: []byte("\"\xc0\"")}, ErrInvalidUTF8},
		{"bad payload json", Envelope{Type: "a", ID: "1", Payload: []byte("{")}, ErrInvalidJSON},
		{"two payload values", Envelope{Type: "a", ID: "1", Payload: []byte("1 2")}, ErrInvalidJSON},
		{"whitespace payload", Envelope{Type: "a", ID: "1", Payload: []byte(" ")}, ErrInvalidJSON},
		{"payload too large", Envelope{Type: "a", ID: "1", Payload: append(big, '2')}, ErrFrameTooLarge},
		{"type too large", Envelope{Type: string(big[:DefaultMaxFrameSize-10]), ID: "1"}, ErrFrameTooLarge},
		{"body too large after compaction", Envelope{Type: "a", ID: "1", Payload: bytes.Repeat([]byte("1"), DefaultMaxFrameSize-20)}, ErrFrameTooLarge},
	}
	for _, tt := range tests {
		dst := []byte("keep")
		got, err := AppendFrame(dst, tt.e)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
		if string(got) != "keep" {
			t.Errorf("%s: dst changed to %d bytes", tt.name, len(got))
		}
	}
	// Whitespace is not counted: a padded payload whose compact form fits is fine.
	if _, err := AppendFrame(nil, Envelope{Type: "a", ID: "1", Payload: big}); err != nil {
		t.Errorf("padded payload: %v", err)
	}
}

func TestAppendFrameRaw(t *testing.T) {
	body := []byte(` {"id" : "1", "type":"a"} `)
	got, err := AppendFrameRaw(nil, body)
	if err != nil || !bytes.Equal(got, frame(string(body))) {
		t.Fatalf("AppendFrameRaw = %q, %v", got, err)
	}
	if _, err := AppendFrameRaw(nil, []byte(`{"type":"a"}`)); !errors.Is(err, ErrMissingID) {
		t.Fatalf("invalid body: %v", err)
	}
}

func TestEchoAndErrorEnvelope(t *testing.T) {
	e := Envelope{Type: "chat", ID: "7", Payload: []byte(`{"a":1}`)}
	if got := e.Echo(); got.Type != "chat.echo" || got.ID != "7" || string(got.Payload) != `{"a":1}` {
		t.Errorf("Echo = %+v", got)
	}
	er := ErrorEnvelope("x\xff", "bad \"frame\"\n\xff")
	b, err := AppendFrame(nil, er)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"error","id":"x` + "\uFFFD" + `","payload":{"error":"bad \"frame\"\n` + "\uFFFD" + `"}}`
	if string(b[4:]) != want {
		t.Errorf("ErrorEnvelope frame = %s, want %s", b[4:], want)
	}
}

func TestIsRecoverable(t *testing.T) {
	for err, want := range map[error]bool{
		nil: false, ErrFrameTooLarge: false, ErrTruncated: false, errors.New("x"): false,
		ErrInvalidUTF8: true, ErrInvalidJSON: true, ErrMissingType: true, ErrMissingID: true, ErrDuplicateKey: true,
		&syntaxError{msg: "x"}: true,
	} {
		if got := IsRecoverable(err); got != want {
			t.Errorf("IsRecoverable(%v) = %v", err, got)
		}
	}
}
