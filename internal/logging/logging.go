// Package logging builds the server's slog logger: human text (tint) or
// JSON, always to the given writer (stderr: stdout carries the protocol in
// stdio mode), with secrets redacted by attribute name and control
// characters escaped in every value, so nothing a client sends (a request
// path, an upstream's error text) can put a terminal escape sequence or a
// forged line into the log.
package logging

import (
	"context"
	"encoding"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lmittmann/tint"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/term"
)

// New returns a logger writing to w at level ("debug", "info", "warn",
// "error") in format ("text" or "json"). Text is coloured only when w is a
// terminal.
func New(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	if strings.EqualFold(format, "json") {
		return slog.New(traceHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv, ReplaceAttr: replace})})
	}
	return slog.New(traceHandler{tint.NewHandler(w, &tint.Options{Level: lv, TimeFormat: time.TimeOnly, ReplaceAttr: replace, NoColor: !isTerminal(w)})})
}

// traceHandler adds the trace and span ids of the context a line is
// logged with (a tool call's, when tracing is on), so a log line leads to
// its trace.
type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(attrs)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}

// isTerminal reports whether w is a file open on a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

func replace(_ []string, a slog.Attr) slog.Attr {
	a = redact(a)
	a.Key = escape(a.Key)
	a.Value = escapeValue(a.Value)
	return a
}

// secretish names attributes whose values are never logged.
var secretish = []string{"password", "secret", "token", "authorization", "cookie", "api_key", "apikey"}

func redact(a slog.Attr) slog.Attr {
	k := strings.ToLower(a.Key)
	for _, s := range secretish {
		if strings.Contains(k, s) {
			return slog.String(a.Key, "[redacted]")
		}
	}
	return a
}

// escapeValue escapes a string value, and any other value whose text
// would carry a control character (an error, a struct holding a string),
// which then becomes its escaped text. Other values are left as they are.
func escapeValue(v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); needsEscape(s) {
			return slog.StringValue(escape(s))
		}
	case slog.KindAny:
		var s string
		switch x := v.Any().(type) {
		case slog.Level:
			return v // tint formats levels itself
		case error:
			s = x.Error()
		case encoding.TextMarshaler:
			b, err := x.MarshalText()
			if err != nil {
				return v
			}
			s = string(b)
		case fmt.Stringer:
			s = x.String()
		case []byte:
			s = string(x)
		default:
			s = fmt.Sprintf("%+v", x)
		}
		if needsEscape(s) {
			return slog.StringValue(escape(s))
		}
	}
	return v
}

// needsEscape reports whether s holds a C0 or C1 control character, DEL,
// or bytes that are not UTF-8.
func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isControl(r) || (r == utf8.RuneError && size == 1) {
			return true
		}
		i += size
	}
	return false
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) }

// escape returns s with every C0 and C1 control character and DEL written
// as a Go escape (\n, \t, \r, \x1b, \u009b) and every byte that is not
// UTF-8 as \xNN; everything else is unchanged.
func escape(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&0xf])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		case r >= 0x80 && r <= 0x9f:
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
