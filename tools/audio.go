package tools

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// audioFormat is one accepted upload format.
type audioFormat struct {
	ext         string // without the dot
	family      string // what the content check can tell apart
	contentType string
}

// audioFormats are the documented upload formats. mp4 and m4a are the same
// container (ISO BMFF, an "ftyp" box); nothing in the first bytes reliably
// tells them apart, so either extension accepts either.
var audioFormats = []audioFormat{
	{"wav", "WAV (RIFF/WAVE)", "audio/wav"},
	{"mp3", "MP3 (ID3 tag or MPEG audio frame)", "audio/mpeg"},
	{"mp4", "MP4/M4A (ftyp box)", "audio/mp4"},
	{"m4a", "MP4/M4A (ftyp box)", "audio/mp4"},
	{"ogg", "Ogg (OggS)", "audio/ogg"},
	{"webm", "WebM (EBML)", "audio/webm"},
	{"aac", "AAC (ADTS)", "audio/aac"},
	{"flac", "FLAC (fLaC)", "audio/flac"},
}

func formatByExt(name string) (audioFormat, bool) {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(name)), ".")
	for _, f := range audioFormats {
		if f.ext == ext {
			return f, true
		}
	}
	return audioFormat{}, false
}

// maxID3Chain bounds how many ID3 tags in a row sniffAudioAt follows.
const maxID3Chain = 16

// sniffHeadLen is what sniffHead needs to tell every format apart.
const sniffHeadLen = 16

// sniffAudioAt names the family of the audio in the size bytes of r from
// its magic bytes, or "" when it is none of the accepted formats; it reads
// only the few bytes it looks at. ID3v2 tags (a 10-byte header, a syncsafe
// size) may precede MP3, and sometimes AAC or FLAC, data: it looks behind
// them.
func sniffAudioAt(r io.ReaderAt, size int64) string {
	var (
		off    int64
		behind bool // off is just behind one ID3 tag or more
	)
	for range maxID3Chain {
		head := make([]byte, min(sniffHeadLen, size-off))
		n, _ := r.ReadAt(head, off)
		head = head[:n]
		if !bytes.HasPrefix(head, []byte("ID3")) {
			got := sniffHead(head)
			if behind && got != "FLAC (fLaC)" && got != "AAC (ADTS)" {
				return "MP3 (ID3 tag or MPEG audio frame)"
			}
			return got
		}
		if len(head) < 10 {
			break
		}
		tag := int64(10 + (int(head[6]&0x7f)<<21 | int(head[7]&0x7f)<<14 | int(head[8]&0x7f)<<7 | int(head[9]&0x7f)))
		if head[5]&0x10 != 0 {
			tag += 10 // footer
		}
		if off+tag >= size {
			break
		}
		off, behind = off+tag, true
	}
	return "MP3 (ID3 tag or MPEG audio frame)"
}

// sniffHead names the family of audio starting with b (not an ID3 tag), or "".
func sniffHead(b []byte) string {
	has := func(off int, sig string) bool {
		return len(b) >= off+len(sig) && string(b[off:off+len(sig)]) == sig
	}
	switch {
	case has(0, "RIFF") && has(8, "WAVE"):
		return "WAV (RIFF/WAVE)"
	case has(4, "ftyp"):
		return "MP4/M4A (ftyp box)"
	case has(0, "OggS"):
		return "Ogg (OggS)"
	case bytes.HasPrefix(b, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		return "WebM (EBML)"
	case has(0, "fLaC"):
		return "FLAC (fLaC)"
	case len(b) >= 2 && b[0] == 0xFF && (b[1]&0xF0) == 0xF0 && (b[1]&0x06) == 0:
		// ADTS: 12-bit sync 0xFFF, layer 00 (FFF1, FFF9, and the CRC forms FFF0, FFF8).
		return "AAC (ADTS)"
	case len(b) >= 2 && b[0] == 0xFF && (b[1]&0xE0) == 0xE0 && (b[1]&0x06) != 0:
		// MPEG audio frame sync: 11 bits set, layer I, II or III.
		return "MP3 (ID3 tag or MPEG audio frame)"
	}
	return ""
}

// checkAudio refuses content (size bytes read from r) whose magic bytes are
// not an accepted format or disagree with the file name's extension.
func checkAudio(name string, r io.ReaderAt, size int64) (audioFormat, error) {
	f, ok := formatByExt(name)
	if !ok {
		return f, fmt.Errorf("%q: the extension must be one of .wav, .mp3, .mp4, .ogg, .webm, .m4a, .aac, .flac", name)
	}
	if size == 0 {
		return f, fmt.Errorf("%q is empty", name)
	}
	got := sniffAudioAt(r, size)
	switch {
	case got == "":
		return f, fmt.Errorf("%q does not contain wav, mp3, mp4, ogg, webm, m4a, aac or flac audio (its first bytes match none of them)", name)
	case got != f.family:
		return f, fmt.Errorf("%q is named .%s but its content is %s audio: rename it with the right extension or send the right file", name, f.ext, got)
	}
	return f, nil
}
