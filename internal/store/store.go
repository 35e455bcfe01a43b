// Package store is the server's shared state: confirmation tokens (single
// use across every replica), pending approvals, the upstream credentials
// the server obtained (sealed), locks that make one renewal happen across
// replicas, and per-principal counters. Two implementations pass one
// contract test suite: an embedded store in a directory (the default; pure
// Go; several processes on one machine may use it at once) and Redis or
// Valkey (CONVIRZA_MCP_STORE=redis://…), for replicas.
//
// Records are positive: whatever grants something is a record that exists
// (a token issued, an approval given); a missing record means refuse, so a
// store that lost its data fails closed. A confirmation token, say:
//
//	Create(ctx, "token/"+id, issued, ttl)      // issuing; ErrExists: pick another id
//	v, err := Get(ctx, "token/"+id)            // ErrNotFound: unknown, expired or lost: refuse
//	ok, err := Swap(ctx, "token/"+id, v, redeemed)
//	// ok: this caller, and no other anywhere, executes; false: already
//	// redeemed (refuse); ErrNotFound: refuse; ErrUnavailable: refuse, say so.
//
// where issued is the record as written (its binding: tool, arguments,
// caller) and redeemed differs from it (the same binding marked redeemed).
// Values are opaque bytes; upstream credentials are sealed (Sealer) before
// they are stored.
package store

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// ErrNotFound: no record under that key (or it expired).
var ErrNotFound = errors.New("store: no such record")

// ErrExists: Create found a record under that key already.
var ErrExists = errors.New("store: record exists")

// ErrUnavailable wraps every failure to reach the store (Redis down, the
// state directory unwritable): callers refuse what needs the store, and
// say so.
var ErrUnavailable = errors.New("store unavailable")

// Store is the small interface both implementations satisfy. Keys are
// plain non-empty strings ("token/<id>", "approval/<id>"); the
// implementation namespaces them, and keeps locks apart from records (a
// lock and a record may share a name). Every record may expire: ttl 0
// means it does not; a negative ttl is an error. An expired record reads
// as missing everywhere (Get, Swap, List, Create). Every method is safe
// for concurrent use, within a process and across processes sharing the
// store; failures to reach the store wrap ErrUnavailable.
type Store interface {
	// Create writes a new record; ErrExists when one is there.
	Create(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Get reads a record; ErrNotFound when there is none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put writes a record, replacing any.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Swap replaces the record's value with next only if it is old, keeping
	// its expiry, atomically: exactly one of many concurrent Swaps from the
	// same old value succeeds. false (and no error) when the value was not
	// old; ErrNotFound when there is no record.
	Swap(ctx context.Context, key string, old, next []byte) (bool, error)
	// Delete removes a record; no error when there is none.
	Delete(ctx context.Context, key string) error
	// Add adds delta to the counter under key (created at 0 with ttl when
	// missing; its expiry is not extended) and returns the new value. A
	// counter reads (Get) as its decimal value; Add on a record that is not
	// one, or past the int64 range, is an error (not ErrUnavailable).
	Add(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
	// List returns the live records whose keys start with prefix ("" for
	// all), keyed as they were written. Not a snapshot: for listing.
	List(ctx context.Context, prefix string) (map[string][]byte, error)
	// Lock takes a lock held at most ttl (which must be positive), without
	// waiting; ok is false when another holder has it. unlock releases it
	// only if it is still this holder's (not after it expired and another
	// took it); calling it more than once is harmless. Hold it for one
	// short task (a token renewal), never across requests.
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(), ok bool, err error)
	// Ping reports whether the store can be reached (and, embedded, written).
	Ping(ctx context.Context) error
	// Close releases the store; later calls fail with ErrUnavailable.
	Close() error
}

// CountInWindow adds delta to the counter of key in the current fixed
// window of length window (at now) and returns its value; delta 0 reads it.
// The counter lives two windows, in the store, so every process and
// replica sharing it counts together.
func CountInWindow(ctx context.Context, st Store, key string, now time.Time, window time.Duration, delta int64) (int64, error) {
	slot := now.UnixNano() / int64(window)
	return st.Add(ctx, key+"/"+strconv.FormatInt(slot, 10), delta, 2*window)
}
