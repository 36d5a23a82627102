package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// refEnvelope is what the reference decoder (built on encoding/json, slow
// but trusted) extracts from a frame body.
type refEnvelope struct {
	typ, id    string
	payload    []byte // compacted, nil when absent
	hasPayload bool
}

// refParse classifies data the way ParseEnvelope must, using encoding/json.
func refParse(data []byte) (refEnvelope, error) {
	var r refEnvelope
	if !utf8.Valid(data) {
		return r, ErrInvalidUTF8
	}
	if !json.Valid(data) {
		return r, ErrInvalidJSON
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return r, ErrInvalidJSON
	}
	var typRaw, idRaw, payloadRaw json.RawMessage
	seen := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return r, fmt.Errorf("reference decoder: %v", err)
		}
		key := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return r, fmt.Errorf("reference decoder: %v", err)
		}
		seen[key]++
		switch key {
		case "type":
			typRaw = v
		case "id":
			idRaw = v
		case "payload":
			payloadRaw = v
		}
	}
	if seen["type"] > 1 || seen["id"] > 1 || seen["payload"] > 1 {
		return r, ErrDuplicateKey
	}
	if typRaw == nil || typRaw[0] != '"' {
		return r, ErrMissingType
	}
	if idRaw == nil || idRaw[0] != '"' {
		return r, ErrMissingID
	}
	if err := json.Unmarshal(typRaw, &r.typ); err != nil {
		return r, err
	}
	if err := json.Unmarshal(idRaw, &r.id); err != nil {
		return r, err
	}
	if payloadRaw != nil {
		r.hasPayload = true
		r.payload = compactJSON(payloadRaw)
	}
	return r, nil
}

func compactJSON(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		panic(err)
	}
	return out.Bytes()
}

// sameClass reports whether two errors are in the same error class.
func sameClass(a, b error) bool {
	for _, target := range []error{ErrInvalidUTF8, ErrInvalidJSON, ErrDuplicateKey, ErrMissingType, ErrMissingID} {
		if errors.Is(a, target) != errors.Is(b, target) {
			return false
		}
	}
	return (a == nil) == (b == nil)
}

// makePayload builds a realistic JSON object of roughly size bytes.
func makePayload(size int) []byte {
	var b strings.Builder
	b.WriteString(`{"seq":12345,"from":"spoke-7","tags":["a","b"],"items":[`)
	for i := 0; b.Len() < size-40; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"n":%d,"ok":true,"v":-1.5e3,"s":"text \"%d\" é"}`, i, i)
	}
	b.WriteString(`],"end":null}`)
	return []byte(b.String())
}

func frame(body string) []byte {
	n := len(body)
	return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}
