package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// SealedRecords says where a package keeps sealed values: the records
// whose keys start with Prefix and, when Match is set, satisfy it. Every
// such value is sealed with its record's key as associated data. Each
// package that seals declares its own beside the keys it writes, so Rekey
// never works from a copy of them.
type SealedRecords struct {
	Prefix string
	Match  func(key string) bool
}

// Holds reports whether key is one of the records.
func (r SealedRecords) Holds(key string) bool {
	return strings.HasPrefix(key, r.Prefix) && (r.Match == nil || r.Match(key))
}

// RekeyResult counts what Rekey found.
type RekeyResult struct {
	// Resealed were sealed with a previous key and now with the current one.
	Resealed int
	// Current were sealed with the current key already.
	Current int
	// Unopenable open with no key the Sealer holds (sealed with a key it
	// was not given, or damaged): left untouched; their readers treat them
	// as missing (a sign-in again).
	Unopenable int
	// Gone were deleted (or expired) while Rekey walked.
	Gone int
}

// rekeyAttempts bounds the re-reads of a record that changes under Rekey
// (each change is a write, which seals with the current key: the next
// look finds it current).
const rekeyAttempts = 5

// Rekey re-seals with s's current key every value in the records that was
// sealed with a previous key, so the previous keys can be dropped. Each
// record is rewritten through Swap: one renewed meanwhile is read again,
// never overwritten. Only a failure to reach the store is an error.
func Rekey(ctx context.Context, st Store, s *Sealer, records ...SealedRecords) (RekeyResult, error) {
	var res RekeyResult
	seen := map[string]bool{}
	for _, set := range records {
		recs, err := st.List(ctx, set.Prefix)
		if err != nil {
			return res, fmt.Errorf("listing the sealed records under %q: %w", set.Prefix, err)
		}
		for key, sealed := range recs {
			if seen[key] || !set.Holds(key) {
				continue
			}
			seen[key] = true
			if err := rekeyOne(ctx, st, s, key, sealed, &res); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

func rekeyOne(ctx context.Context, st Store, s *Sealer, key string, sealed []byte, res *RekeyResult) error {
	for range rekeyAttempts {
		plain, stale, err := s.Unseal(sealed, []byte(key))
		switch {
		case err != nil:
			res.Unopenable++
			return nil
		case !stale:
			clear(plain)
			res.Current++
			return nil
		}
		_, ok, err := s.Reseal(ctx, st, key, sealed, plain)
		clear(plain)
		switch {
		case errors.Is(err, ErrNotFound):
			res.Gone++
			return nil
		case err != nil:
			return fmt.Errorf("re-sealing %s: %w", key, err)
		case ok:
			res.Resealed++
			return nil
		}
		// Written meanwhile: look again.
		sealed, err = st.Get(ctx, key)
		if errors.Is(err, ErrNotFound) {
			res.Gone++
			return nil
		}
		if err != nil {
			return fmt.Errorf("re-reading %s: %w", key, err)
		}
	}
	return fmt.Errorf("re-sealing %s: it changed %d times while being re-sealed; run rekey again", key, rekeyAttempts)
}
