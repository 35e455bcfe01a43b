package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/talkdesk"
)

// Page is one page of a list answer: its items under Key, how many, the
// list's total when known, and how to get the next page. Scope trimming and
// truncation work on it, so the figures always agree with the items.
type Page[T any] struct {
	Key   string
	Items []T
	// Total is the number of items in the whole list; -1 when not known.
	Total int
	paging
	// extra are fields of the answer beside the page (record_list_id).
	extra []field
	// scope and truncated are notes on what was left out, and why.
	scope, truncated string
}

// paging is how a list pages: by offset, by page number (Talkdesk), or not
// at all (a limit only).
type paging struct {
	kind pageKind
	// offset is where an offset page starts; next is the next page's
	// offset, or page number, 0 when there is none.
	offset, next int
	// page, perPage and totalPages describe a numbered page.
	page, perPage, totalPages int
}

type pageKind int

const (
	byOffset pageKind = iota
	byNumber
	limitOnly
)

type field struct {
	key string
	val any
}

// offsetPage is a page of a list paged by offset: next_offset is set when
// there is more.
func offsetPage[T any](key string, items []T, total, offset int) *Page[T] {
	p := &Page[T]{Key: key, Items: items, Total: total, paging: paging{kind: byOffset, offset: offset}}
	if next := offset + len(items); len(items) > 0 && next < total {
		p.next = next
	}
	return p
}

// pageOf is offsetPage for a list call's answer, passing its error through.
func pageOf[T any](key string, offset int, out *convirza.List[T], err error) (*Page[T], error) {
	if err != nil {
		return nil, err
	}
	return offsetPage(key, out.Items, out.Total, offset), nil
}

// limitedList is a list whose endpoint has a limit but no offset.
func limitedList[T any](key string, items []T, total int) *Page[T] {
	return &Page[T]{Key: key, Items: items, Total: total, paging: paging{kind: limitOnly}}
}

// halPage is one page of a Talkdesk (HAL) list: page numbers, per_page,
// total_pages, and next_page when there is a next page.
func halPage[T any](key string, p *talkdesk.Page[T]) *Page[T] {
	out := &Page[T]{Key: key, Items: p.Items, Total: p.Total,
		paging: paging{kind: byNumber, page: p.Page, perPage: p.PerPage, totalPages: p.TotalPages}}
	if p.Next != "" {
		out.next = p.Page + 1
	}
	return out
}

// with adds a field beside the page.
func (p *Page[T]) with(key string, val any) *Page[T] {
	p.extra = append(p.extra, field{key, val})
	return p
}

// MarshalJSON renders the page as the tools answer it.
func (p *Page[T]) MarshalJSON() ([]byte, error) {
	items, err := json.Marshal(p.Items)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(items) + 128)
	b.WriteByte('{')
	writeKey(&b, p.Key)
	b.Write(items)
	num := func(k string, n int) {
		b.WriteByte(',')
		writeKey(&b, k)
		b.WriteString(strconv.Itoa(n))
	}
	num("count", len(p.Items))
	if p.Total >= 0 {
		num("total", p.Total)
	}
	switch p.kind {
	case byOffset:
		if p.next > 0 {
			num("next_offset", p.next)
		}
	case byNumber:
		num("page", p.page)
		num("per_page", p.perPage)
		num("total_pages", p.totalPages)
		if p.next > 0 {
			num("next_page", p.next)
		}
	}
	extra := p.extra
	if p.kind == limitOnly && p.Total > len(p.Items) && p.truncated == "" {
		extra = append(extra[:len(extra):len(extra)], field{"more", "raise limit or narrow the filters to see the rest"})
	}
	for _, f := range extra {
		v, err := json.Marshal(f.val)
		if err != nil {
			return nil, err
		}
		b.WriteByte(',')
		writeKey(&b, f.key)
		b.Write(v)
	}
	for _, note := range []field{{"scope", p.scope}, {"truncated", p.truncated}} {
		if note.val != "" {
			b.WriteByte(',')
			writeKey(&b, note.key)
			v, _ := json.Marshal(note.val)
			b.Write(v)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeKey(b *bytes.Buffer, k string) {
	v, _ := json.Marshal(k)
	b.Write(v)
	b.WriteByte(':')
}

// pager is a page whose items can be cut to fit one answer.
type pager interface {
	length() int
	// cutAt is a copy of the page with its first k items only, saying how
	// to get the rest.
	cutAt(k int) any
}

func (p *Page[T]) length() int { return len(p.Items) }

func (p *Page[T]) cutAt(k int) any {
	q := *p
	q.cut(k)
	return &q
}

func (p *Page[T]) cut(k int) {
	n := len(p.Items)
	p.Items = p.Items[:k]
	note := fmt.Sprintf("Only %d of the %d %s fit in one answer. Ask for fewer (a smaller limit or narrower filters)", k, n, p.Key)
	// Offsets are known only for an offset page not trimmed to the scope:
	// the upstream's next offset would skip the records cut here, and a
	// numbered page has no offset to resume from.
	if p.kind == byOffset && p.scope == "" {
		p.next = p.offset + k
		note += fmt.Sprintf(", or page on with offset=%d", p.next)
	} else if p.kind == byOffset {
		p.next = 0
	}
	if p.kind == byNumber {
		p.next = 0
	}
	p.truncated = note + "."
}
