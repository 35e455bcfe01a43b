package store

import (
	"bytes"
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
	"strings"
)

// KeySize is the length of a store key: AES-256.
const KeySize = 32

// KeyFileName is the file, in the state directory, that holds the key the
// embedded store generated when CONVIRZA_MCP_STORE_KEY is unset.
const KeyFileName = "store.key"

// Sealer encrypts values at rest (upstream credentials) with AES-256-GCM.
// A sealed value is: version byte 1, the first 4 bytes of SHA-256 of the
// key (tells "another key" from "damaged" without revealing the key), a
// random 12-byte nonce, then the ciphertext and tag. The caller's
// associated data (the record's key, say) binds a sealed value to its
// place: moved elsewhere, it does not open.
type Sealer struct {
	aead   cipher.AEAD
	keyID  [4]byte
	source string // where the key came from, for messages: a variable or a file
}

const sealVersion = 1

// NewSealer makes a Sealer from a 32-byte key; source names where the key
// came from (CONVIRZA_MCP_STORE_KEY or the key file) and is what errors
// show, never the key.
func NewSealer(key []byte, source string) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%s: the key must be %d bytes, got %d", source, KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	s := &Sealer{aead: aead, source: source}
	sum := sha256.Sum256(key)
	copy(s.keyID[:], sum[:])
	return s, nil
}

// Seal encrypts plaintext bound to aad (may be nil).
func (s *Sealer) Seal(plaintext, aad []byte) []byte {
	out := make([]byte, 0, 1+len(s.keyID)+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out = append(out, sealVersion)
	out = append(out, s.keyID[:]...)
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce) // never fails (crypto/rand crashes the program instead)
	out = append(out, nonce...)
	return s.aead.Seal(out, nonce, plaintext, aad)
}

// Open decrypts what Seal returned with the same aad. The error says
// whether the value was sealed with another key (the key changed) or is
// damaged or was moved; either way it is unusable and the caller treats it
// as missing (signs in again).
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	head := 1 + len(s.keyID) + s.aead.NonceSize()
	if len(sealed) < head+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errors.New("store: sealed value is damaged or not sealed")
	}
	if !bytes.Equal(sealed[1:1+len(s.keyID)], s.keyID[:]) {
		return nil, fmt.Errorf("store: sealed value was sealed with a key other than %s (was it changed?)", s.source)
	}
	plain, err := s.aead.Open(nil, sealed[1+len(s.keyID):head], sealed[head:], aad)
	if err != nil {
		return nil, fmt.Errorf("store: sealed value does not open with %s: damaged, or stored under another name", s.source)
	}
	return plain, nil
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

// OpenSealer is the rule for the store key: CONVIRZA_MCP_STORE_KEY when
// set (keyB64); otherwise, for the embedded store (storeURL empty), the
// key file in stateDir, generated when missing; with Redis the variable
// is required (every replica must share the key).
func OpenSealer(keyB64, storeURL, stateDir string) (*Sealer, error) {
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
