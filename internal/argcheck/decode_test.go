package argcheck

import (
	"bytes"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// An object's arguments are decoded from the input itself: a 3 MB string
// argument costs about its own size (a json.Decoder copied the whole input
// into a buffer grown step by step first: about 4 times more).
func TestDecodeArgumentsLongStringCopiedOnce(t *testing.T) {
	long := strings.Repeat("QUJD", 3<<18)
	raw := []byte(`{"name":"x","content":"` + long + `","n":12345678901234567890}`)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := DecodeArguments(raw)
	runtime.ReadMemStats(&after)
	if err != nil || m["content"] != long || m["name"] != "x" {
		t.Fatalf("%v: %d keys", err, len(m))
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(len(long))*5/4 {
		t.Errorf("decoding %d bytes of arguments allocated %d", len(raw), alloc)
	}
	if n, ok := m["n"].(interface{ String() string }); !ok || n.String() != "12345678901234567890" {
		t.Errorf("numbers stay exact: %#v", m["n"])
	}
}

// FuzzDecodeArgumentsAsDecoder: whatever the input, decoding it value by
// value (what DecodeArguments does for long arguments) gives what decoding
// it whole with a json.Decoder gives: the same value, or no value where
// the decoder finds an error.
func FuzzDecodeArgumentsAsDecoder(f *testing.F) {
	for _, s := range []string{`{"id":1}`, `{"a":"\u00e9\n","b":"\xff","c":[1,{"d":null}],"e":1e999,"e":-0.5}`, `{"a":1} {"b":2}`,
		`{"a":1}}`, `{"a":"x\\"}`, `{"":true,"k":false,"n":null}`, `{"s":"ab\u0000"}`, `{"x" : [ ] , "y":-0}`, `[]`, `"x"`, `{`, "{\"a\":\"\xed\xa0\x80\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		raw = bytes.TrimSpace(raw)
		got, ok := decodeByValue(raw)
		want, err := decodeWhole(raw)
		if ok != (err == nil) {
			t.Fatalf("%q: decoded %v, the decoder's error %v", raw, ok, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %#v, the decoder's %#v", raw, got, want)
		}
	})
}
