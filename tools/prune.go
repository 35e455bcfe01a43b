package tools

// pruneJSON copies the compact JSON that encoding/json writes, leaving out
// object members whose value is null, "", [] or {} once pruned itself (array
// items are kept, so positions stay meaningful). It works on the bytes, so
// a result is encoded once; ok is false for input it does not recognise
// (whitespace, say), which the caller then prunes the long way.
func pruneJSON(src []byte) (out []byte, ok bool) {
	p := pruner{src: src, out: make([]byte, 0, len(src))}
	if _, ok := p.value(); !ok || p.i != len(src) {
		return nil, false
	}
	return p.out, true
}

type pruner struct {
	src []byte
	i   int
	out []byte
}

// value copies one value and reports whether it is empty.
func (p *pruner) value() (empty, ok bool) {
	if p.i >= len(p.src) {
		return false, false
	}
	switch c := p.src[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		start := p.i
		if !p.str() {
			return false, false
		}
		p.out = append(p.out, p.src[start:p.i]...)
		return p.i-start == 2, true
	case c == 'n':
		return true, p.literal("null")
	case c == 't':
		return false, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		for p.i < len(p.src) && numberByte(p.src[p.i]) {
			p.i++
		}
		p.out = append(p.out, p.src[start:p.i]...)
		return false, true
	}
	return false, false
}

func numberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

func (p *pruner) literal(lit string) bool {
	if len(p.src)-p.i < len(lit) || string(p.src[p.i:p.i+len(lit)]) != lit {
		return false
	}
	p.i += len(lit)
	p.out = append(p.out, lit...)
	return true
}

// str skips a string, escapes included, leaving p.i after its closing quote.
func (p *pruner) str() bool {
	p.i++ // opening quote
	for p.i < len(p.src) {
		switch p.src[p.i] {
		case '\\':
			p.i += 2
		case '"':
			p.i++
			return true
		default:
			p.i++
		}
	}
	return false
}

func (p *pruner) object() (empty, ok bool) {
	p.i++
	p.out = append(p.out, '{')
	members := 0
	if p.i < len(p.src) && p.src[p.i] == '}' {
		p.i++
		p.out = append(p.out, '}')
		return true, true
	}
	for {
		mark := len(p.out)
		if members > 0 {
			p.out = append(p.out, ',')
		}
		if p.i >= len(p.src) || p.src[p.i] != '"' {
			return false, false
		}
		start := p.i
		if !p.str() || p.i >= len(p.src) || p.src[p.i] != ':' {
			return false, false
		}
		p.i++
		p.out = append(p.out, p.src[start:p.i]...)
		isEmpty, ok := p.value()
		if !ok {
			return false, false
		}
		if isEmpty {
			p.out = p.out[:mark]
		} else {
			members++
		}
		if p.i >= len(p.src) {
			return false, false
		}
		c := p.src[p.i]
		p.i++
		switch c {
		case ',':
			continue
		case '}':
			p.out = append(p.out, '}')
			return members == 0, true
		}
		return false, false
	}
}

func (p *pruner) array() (empty, ok bool) {
	p.i++
	p.out = append(p.out, '[')
	if p.i < len(p.src) && p.src[p.i] == ']' {
		p.i++
		p.out = append(p.out, ']')
		return true, true
	}
	for n := 0; ; n++ {
		if n > 0 {
			p.out = append(p.out, ',')
		}
		if _, ok := p.value(); !ok {
			return false, false
		}
		if p.i >= len(p.src) {
			return false, false
		}
		c := p.src[p.i]
		p.i++
		switch c {
		case ',':
			continue
		case ']':
			p.out = append(p.out, ']')
			return false, true
		}
		return false, false
	}
}
