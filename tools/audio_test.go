package tools

import (
	"bytes"
	"encoding/base64"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// readCounter counts the bytes read through it.
type readCounter struct {
	r    *bytes.Reader
	read atomic.Int64
}

func (c *readCounter) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.read.Add(int64(n))
	return n, err
}

// id3 is an ID3v2 tag header announcing size bytes of tag after it.
func id3(size int) []byte {
	return []byte{'I', 'D', '3', 4, 0, 0, byte(size >> 21 & 0x7f), byte(size >> 14 & 0x7f), byte(size >> 7 & 0x7f), byte(size & 0x7f)}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// The format is told from a few bytes, behind ID3 tags too, and a large
// recording is not read: only the bytes looked at.
func TestSniffAudioReadsOnlyWhatItLooksAt(t *testing.T) {
	const (
		mp3  = "MP3 (ID3 tag or MPEG audio frame)"
		flac = "FLAC (fLaC)"
		aac  = "AAC (ADTS)"
	)
	bigTag := make([]byte, 3<<20) // album art, say
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"wav", cat([]byte("RIFF\x00\x00\x00\x00WAVEfmt "), make([]byte, 20<<20)), "WAV (RIFF/WAVE)"},
		{"id3 then flac", cat(id3(4), []byte("abcd"), []byte("fLaC\x00\x00\x00\x22")), flac},
		{"id3 with a large tag then flac", cat(id3(len(bigTag)), bigTag, []byte("fLaC\x00\x00\x00\x22")), flac},
		{"id3 id3 then aac", cat(id3(0), id3(2), []byte("xy"), []byte{0xff, 0xf1, 0x50, 0x80}), aac},
		{"id3 then wav is mp3", cat(id3(0), []byte("RIFF\x00\x00\x00\x00WAVE")), mp3},
		{"id3 longer than the data", cat(id3(100), []byte("fLaC")), mp3},
		{"short id3", []byte("ID3\x04"), mp3},
		{"mp3 frame", []byte{0xff, 0xfb, 0x90, 0x64}, mp3},
		{"nothing known", []byte("hello world, not audio"), ""},
		{"one byte", []byte{0xff}, ""},
	}
	for _, c := range cases {
		src := &readCounter{r: bytes.NewReader(c.b)}
		if got := sniffAudioAt(src, int64(len(c.b))); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
		if n := src.read.Load(); n > 3*sniffHeadLen {
			t.Errorf("%s: read %d bytes to tell the format", c.name, n)
		}
	}
}

// Content in any base64 form is checked without being decoded into memory,
// and read back at any offset it gives the bytes it encodes.
func TestBase64AudioEveryForm(t *testing.T) {
	raw := make([]byte, 3<<20)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	forms := map[string]string{
		"std":      base64.StdEncoding.EncodeToString(raw),
		"raw std":  base64.RawStdEncoding.EncodeToString(raw[1:]),
		"url":      base64.URLEncoding.EncodeToString(raw[2:]),
		"raw url":  base64.RawURLEncoding.EncodeToString(raw[1:]),
		"data url": "data:audio/wav;base64," + base64.StdEncoding.EncodeToString(raw),
	}
	for name, s := range forms {
		want := raw
		switch name {
		case "raw std", "raw url":
			want = raw[1:]
		case "url":
			want = raw[2:]
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b, err := newBase64Audio(s)
		runtime.ReadMemStats(&after)
		if err != nil || b.size != int64(len(want)) {
			t.Fatalf("%s: %v, size %v", name, err, b)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10 {
			t.Errorf("%s: checking %d bytes of base64 allocated %d", name, len(s), alloc)
		}
		got, err := io.ReadAll(io.NewSectionReader(b, 0, b.size))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: read back %d bytes, %v", name, len(got), err)
		}
		for _, off := range []int64{1, 2, 3, 4, 5, 1000, b.size - 7, b.size - 1} {
			p := make([]byte, 5)
			n, err := b.ReadAt(p, off)
			end := min(off+5, b.size)
			if n != int(end-off) || !bytes.Equal(p[:n], want[off:end]) || (end-off < 5) != (err == io.EOF) {
				t.Errorf("%s: ReadAt(5, %d) = %d %v", name, off, n, err)
			}
		}
		if n, err := b.ReadAt(make([]byte, 1), b.size); n != 0 || err != io.EOF {
			t.Errorf("%s: ReadAt at the end: %d %v", name, n, err)
		}
	}
	// Whitespace anywhere is still fine.
	wrapped := "  " + strings.Join(strings.SplitAfter(base64.StdEncoding.EncodeToString(raw[:300]), "AAAA"), "\r\n\t ")
	if b, err := newBase64Audio(wrapped); err != nil {
		t.Errorf("with whitespace: %v", err)
	} else if got, _ := io.ReadAll(io.NewSectionReader(b, 0, b.size)); !bytes.Equal(got, raw[:300]) {
		t.Errorf("with whitespace: %d bytes", len(got))
	}
	for _, bad := range []string{"not base64!", "ab+c-d==", "abc=d", "QUJD=", "QQ=A"} {
		if _, err := newBase64Audio(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
