package store

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// KeySize is the length of a store key: AES-256.
const KeySize = 32

// KeyFileName is the file, in the state directory, that holds the key the
// embedded store generated when CONVIRZA_MCP_STORE_KEY is unset.
const KeyFileName = "store.key"

// Sealer encrypts values at rest (upstream credentials) with AES-256-GCM.
// A sealed value is: version byte 1, the first 4 bytes of SHA-256 of the
// key (tells "another key" from "damaged" without revealing the key, and
// picks the key that opens it), a random 12-byte nonce, then the
// ciphertext and tag. The caller's associated data (the record's key, by
// convention: Rekey relies on it) binds a sealed value to its place: moved
// elsewhere, it does not open.
//
// A Sealer is a key ring: the current key seals; previous keys
// (CONVIRZA_MCP_STORE_KEY_PREVIOUS, WithPrevious) only open, so the key can
// be rotated without making what is stored unreadable, which would sign
// everyone out. Unseal says when a value was sealed with a previous key,
// so its reader can write it back sealed with the current one.
type Sealer struct {
	keys []sealKey // keys[0] is the current key; all of them open
	// source names where the current key came from (a variable or a
	// file), prevSource where the previous ones did ("" when none), for
	// messages: never a key.
	source, prevSource string
}

type sealKey struct {
	aead cipher.AEAD
	id   [4]byte
	sum  [sha256.Size]byte // tells keys apart: a key listed twice is kept once
}

const sealVersion = 1

// NewSealer makes a Sealer from a 32-byte key; source names where the key
// came from (CONVIRZA_MCP_STORE_KEY or the key file) and is what errors
// show, never the key.
func NewSealer(key []byte, source string) (*Sealer, error) {
	k, err := newSealKey(key, source)
	if err != nil {
		return nil, err
	}
	return &Sealer{keys: []sealKey{k}, source: source}, nil
}

func newSealKey(key []byte, source string) (sealKey, error) {
	if len(key) != KeySize {
		return sealKey{}, fmt.Errorf("%s: the key must be %d bytes, got %d", source, KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealKey{}, fmt.Errorf("%s: %w", source, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealKey{}, fmt.Errorf("%s: %w", source, err)
	}
	k := sealKey{aead: aead, sum: sha256.Sum256(key)}
	copy(k.id[:], k.sum[:])
	return k, nil
}

// WithPrevious returns a Sealer that seals with s's current key and also
// opens what any of previous sealed; source names where they came from
// (CONVIRZA_MCP_STORE_KEY_PREVIOUS). A key listed twice, or equal to the
// current key, is kept once.
func (s *Sealer) WithPrevious(source string, previous ...[]byte) (*Sealer, error) {
	out := &Sealer{keys: slices.Clone(s.keys), source: s.source, prevSource: s.prevSource}
	for i, key := range previous {
		k, err := newSealKey(key, fmt.Sprintf("%s (key %d)", source, i+1))
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(out.keys, func(o sealKey) bool { return o.sum == k.sum }) {
			continue
		}
		out.keys = append(out.keys, k)
		out.prevSource = source
	}
	return out, nil
}

// Seal encrypts plaintext bound to aad (may be nil), with the current key.
func (s *Sealer) Seal(plaintext, aad []byte) []byte {
	k := s.keys[0]
	out := make([]byte, 0, 1+len(k.id)+k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	out = append(out, sealVersion)
	out = append(out, k.id[:]...)
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce) // never fails (crypto/rand crashes the program instead)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, aad)
}

// Open decrypts what Seal returned with the same aad, with the key the
// value names: the current one or a previous one. The error says whether
// the value was sealed with a key the Sealer does not hold (the key
// changed) or is damaged or was moved; either way it is unusable and the
// caller treats it as missing (signs in again).
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	plain, _, err := s.Unseal(sealed, aad)
	return plain, err
}

// Unseal is Open that also says whether the value was sealed with a
// previous key (stale): its reader should write it back sealed with the
// current key (Seal), so the previous key can be retired.
func (s *Sealer) Unseal(sealed, aad []byte) (plain []byte, stale bool, err error) {
	const idLen = 4
	if len(sealed) < 1+idLen || sealed[0] != sealVersion {
		return nil, false, errors.New("store: sealed value is damaged or not sealed")
	}
	id := sealed[1 : 1+idLen]
	known := false
	for i, k := range s.keys {
		if !bytes.Equal(id, k.id[:]) {
			continue
		}
		known = true
		head := 1 + idLen + k.aead.NonceSize()
		if len(sealed) < head+k.aead.Overhead() {
			return nil, false, errors.New("store: sealed value is damaged or not sealed")
		}
		// Another key with the same 4-byte id (one chance in 2^32) is
		// tried next.
		if plain, err := k.aead.Open(nil, sealed[1+idLen:head], sealed[head:], aad); err == nil {
			return plain, i > 0, nil
		}
	}
	if !known {
		return nil, false, fmt.Errorf("store: sealed value was sealed with a key other than %s (was it changed?)", s.names())
	}
	return nil, false, fmt.Errorf("store: sealed value does not open with %s: damaged, or stored under another name", s.names())
}

// Reseal writes plain, the opened value of the record key that held
// sealed, back sealed with s's current key, only if the record still
// holds sealed (Swap, which keeps its expiry): a concurrent write (a
// renewal) is never overwritten. It returns the new sealed value and
// whether it was written; ErrNotFound when the record is gone.
func (s *Sealer) Reseal(ctx context.Context, st Store, key string, sealed, plain []byte) ([]byte, bool, error) {
	next := s.Seal(plain, []byte(key))
	ok, err := st.Swap(ctx, key, sealed, next)
	if err != nil || !ok {
		return nil, false, err
	}
	return next, true, nil
}

// names says where the keys came from, for messages.
func (s *Sealer) names() string {
	if s.prevSource == "" {
		return s.source
	}
	return s.source + " or " + s.prevSource
}

// ParseKey decodes a key given in base64 (standard or URL alphabet,
// padded or not); errors name CONVIRZA_MCP_STORE_KEY, never its value.
func ParseKey(b64 string) ([]byte, error) {
	return parseKey(b64, EnvStoreKey)
}

func parseKey(b64, source string) ([]byte, error) {
	s := strings.TrimRight(strings.TrimSpace(b64), "=")
	var key []byte
	var err error
	if strings.ContainsAny(s, "-_") {
		key, err = base64.RawURLEncoding.DecodeString(s)
	} else {
		key, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not base64 (generate one with: openssl rand -base64 32)", source)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("%s: must be %d bytes in base64, got %d bytes (generate one with: openssl rand -base64 32)", source, KeySize, len(key))
	}
	return key, nil
}

// LoadOrCreateKey returns the key in <stateDir>/store.key, creating the
// file (0600, a fresh random key in base64) when there is none. Two
// processes starting at once agree on one key: the file appears whole or
// not at all. On Unix a key file that others may read is refused.
func LoadOrCreateKey(stateDir string) ([]byte, error) {
	if stateDir == "" {
		return nil, fmt.Errorf("no state directory for the store key: set %s or %s", EnvStoreKey, EnvStateDir)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory (%s): %w", EnvStateDir, err)
	}
	path := filepath.Join(stateDir, KeyFileName)
	key, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	fresh := make([]byte, KeySize)
	_, _ = rand.Read(fresh)
	tmp, err := os.CreateTemp(stateDir, ".store.key-*")
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(fresh) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	// A hard link creates the name only if nobody did first, with the
	// content complete; the loser reads the winner's key.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	return readKeyFile(path)
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("%s: others may read it (mode %v): chmod 600 it", path, fi.Mode().Perm())
		}
	}
	return parseKey(string(b), path)
}

// ParsePreviousKeys decodes CONVIRZA_MCP_STORE_KEY_PREVIOUS: base64 keys
// (each 32 bytes) separated by commas; empty items are ignored. Errors name
// the variable and the key's position, never a value.
func ParsePreviousKeys(list string) ([][]byte, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var keys [][]byte
	for i, item := range strings.Split(list, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		key, err := parseKey(item, fmt.Sprintf("%s (item %d)", EnvStoreKeyPrevious, i+1))
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s is set but holds no key (only spaces and commas): set the retired keys, or unset it", EnvStoreKeyPrevious)
	}
	return keys, nil
}

// OpenSealer is the rule for the store key: CONVIRZA_MCP_STORE_KEY when
// set (keyB64); otherwise, for the embedded store (storeURL empty), the
// key file in stateDir, generated when missing; with Redis the variable
// is required (every replica must share the key). The keys in
// previousB64 (CONVIRZA_MCP_STORE_KEY_PREVIOUS) open what they sealed and
// never seal.
func OpenSealer(keyB64, previousB64, storeURL, stateDir string) (*Sealer, error) {
	previous, err := ParsePreviousKeys(previousB64)
	if err != nil {
		return nil, err
	}
	s, err := openCurrent(keyB64, storeURL, stateDir)
	if err != nil || len(previous) == 0 {
		return s, err
	}
	return s.WithPrevious(EnvStoreKeyPrevious, previous...)
}

func openCurrent(keyB64, storeURL, stateDir string) (*Sealer, error) {
	if strings.TrimSpace(keyB64) != "" {
		key, err := ParseKey(keyB64)
		if err != nil {
			return nil, err
		}
		return NewSealer(key, EnvStoreKey)
	}
	if strings.TrimSpace(storeURL) != "" {
		return nil, fmt.Errorf("%s is required with %s (replicas must share it): generate one with: openssl rand -base64 32", EnvStoreKey, EnvStore)
	}
	key, err := LoadOrCreateKey(stateDir)
	if err != nil {
		return nil, err
	}
	return NewSealer(key, filepath.Join(stateDir, KeyFileName))
}
