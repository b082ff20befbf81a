// Package secret holds sspr's cryptographic building blocks: the at-rest key
// file and what is derived from it (sealing, keyed hashes), constant-time
// comparison, and generators for codes, vouchers and ids.
package secret

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/hkdf"
)

// Error is the type of this package's sentinel errors; being a string type
// they are constants and nobody can reassign them.
type Error string

// Error implements the error interface.
func (e Error) Error() string { return string(e) }

const (
	// ErrDecrypt is wrapped by Open when a sealed value was altered, belongs
	// to other associated data or was sealed under another key. The cases are
	// deliberately indistinguishable.
	ErrDecrypt Error = "sealed value cannot be opened"
	// ErrKeyFile is wrapped when the key file exists but must not be used:
	// readable or writable by group or others, not a regular file, or not
	// exactly 32 hex-encoded bytes.
	ErrKeyFile Error = "unusable key file"
	// ErrInvalidLength is wrapped when a generator is asked for a length < 1.
	ErrInvalidLength Error = "invalid length"
)

const (
	// KeyFileName is the key file's name inside the data folder.
	KeyFileName = "sspr.key"

	masterKeyLen = 32
	// maxKeyFileSize bounds the read; a valid file is 64 hex digits plus an
	// optional newline, so anything longer is refused anyway.
	maxKeyFileSize = 2*masterKeyLen + 2

	// HKDF info strings: one per derived key, so the cipher key and the MAC
	// key are independent even though they come from one file. Changing one
	// makes every stored value unreadable.
	infoSeal  = "sspr v1 seal aes-256-gcm"
	infoMAC   = "sspr v1 mac hmac-sha256"
	infoAudit = "sspr v1 audit-chain hmac-sha256"

	// maxSealLen is GCM's plaintext limit, (2^32 - 2) blocks; Seal panics
	// beyond it.
	maxSealLen = (1<<32 - 2) * aes.BlockSize
)

// Keys are the secrets derived from the key file. They are immutable and safe
// for concurrent use.
type Keys struct {
	aead     cipher.AEAD
	macKey   []byte
	auditKey []byte
}

// LoadOrCreateKeys reads dir/sspr.key, creating it (and dir, mode 0700) with 32
// random bytes and mode 0600 on first start. It refuses a key file that group
// or others can access, that is not a regular file, or that does not hold
// exactly 32 hex-encoded bytes: an exposed or damaged key must stop the
// service, not be silently replaced.
func LoadOrCreateKeys(dir string) (*Keys, error) {
	path := filepath.Join(dir, KeyFileName)
	master, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		master, err = createKeyFile(dir, path)
		if errors.Is(err, fs.ErrExist) {
			// Another process created it between our read and our create.
			master, err = readKeyFile(path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load key file: %w", err)
	}
	return deriveKeys(master)
}

// LoadKeyFile reads the key file at path, which must exist: a replica or a
// kiosk sharing a store is given the key the others use, and must never
// make a key of its own.
func LoadKeyFile(path string) (*Keys, error) {
	master, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load key file: %w: %s does not exist; copy the key the other sspr processes of this store use", ErrKeyFile, path)
	}
	if err != nil {
		return nil, fmt.Errorf("load key file: %w", err)
	}
	return deriveKeys(master)
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Stat the open file rather than the path, so the checks apply to the
	// bytes actually read.
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrKeyFile, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %#o, want 0600 (run chmod 600 on it)", ErrKeyFile, path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, err
	}
	// One trailing newline is tolerated because editors add it.
	text := strings.TrimSuffix(string(data), "\n")
	master, err := hex.DecodeString(text)
	if err != nil || len(master) != masterKeyLen {
		return nil, fmt.Errorf("%w: %s must hold %d hex digits", ErrKeyFile, path, 2*masterKeyLen)
	}
	return master, nil
}

// createKeyFile writes a new key to a private temporary file and hard-links it
// into place. The link either creates the complete file or fails with
// fs.ErrExist, so neither a crash nor a concurrent start can leave a
// half-written key behind.
func createKeyFile(dir, path string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	master := make([]byte, masterKeyLen)
	// crypto/rand.Read never fails since Go 1.24: it crashes the program
	// rather than return predictable bytes.
	_, _ = rand.Read(master)
	// CreateTemp makes the file with mode 0600, so the key is never readable
	// by others, not even between create and link.
	tmp, err := os.CreateTemp(dir, "."+KeyFileName+".tmp-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(hex.EncodeToString(master) + "\n"); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return nil, err
	}
	syncDir(dir)
	return master, nil
}

// syncDir makes the new directory entry durable. It is best effort: some
// platforms cannot sync a directory, and the file itself is already synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// deriveKeys derives the sealing, MAC and audit-chain keys from the master
// key with HKDF-SHA256. No salt is needed: the master key is uniformly random.
func deriveKeys(master []byte) (*Keys, error) {
	sealKey := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, master, nil, []byte(infoSeal)), sealKey); err != nil {
		return nil, fmt.Errorf("derive sealing key: %w", err)
	}
	macKey := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, master, nil, []byte(infoMAC)), macKey); err != nil {
		return nil, fmt.Errorf("derive MAC key: %w", err)
	}
	auditKey := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, master, nil, []byte(infoAudit)), auditKey); err != nil {
		return nil, fmt.Errorf("derive audit key: %w", err)
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("create cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("create GCM: %w", err)
	}
	return &Keys{aead: aead, macKey: macKey, auditKey: auditKey}, nil
}

// AuditKey returns a copy of the key the audit log's chain is MAC'd with. It
// is a derivation of its own, so nothing else sspr MACs (codes, vouchers)
// can be passed off as a link of the chain, and it lives only in memory:
// whoever can write the database but not read sspr.key cannot recompute
// the chain.
func (k *Keys) AuditKey() []byte { return bytes.Clone(k.auditKey) }

// Seal encrypts plain with AES-256-GCM under a fresh random nonce, which it
// prefixes to the result. associated is authenticated but not stored: pass the
// same value (for example the user id) to Open, so a sealed value copied to
// another row does not open there. It fails only for inputs over GCM's limit.
func (k *Keys) Seal(plain, associated []byte) ([]byte, error) {
	if uint64(len(plain)) > maxSealLen {
		return nil, fmt.Errorf("seal: plaintext of %d bytes exceeds the GCM limit", len(plain))
	}
	ns := k.aead.NonceSize()
	out := make([]byte, ns, ns+len(plain)+k.aead.Overhead())
	_, _ = rand.Read(out) // never fails since Go 1.24
	return k.aead.Seal(out, out, plain, associated), nil
}

// Open decrypts a value made by Seal with the same associated data. Any
// alteration, other associated data or another key gives an error wrapping
// ErrDecrypt.
func (k *Keys) Open(sealed, associated []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < ns+k.aead.Overhead() {
		return nil, fmt.Errorf("open: %w: too short", ErrDecrypt)
	}
	plain, err := k.aead.Open(nil, sealed[:ns], sealed[ns:], associated)
	if err != nil {
		return nil, fmt.Errorf("open: %w", ErrDecrypt)
	}
	return plain, nil
}

// MAC returns the hex HMAC-SHA256 of purpose, a zero byte and value. It is the
// keyed hash stored for one-time codes, recovery codes and vouchers: without
// the key file a stolen database cannot be used to brute-force short codes.
// purpose must be a fixed string without a zero byte (for example
// "email-code"), so the same value hashed for two purposes never collides.
func (k *Keys) MAC(purpose, value string) string {
	m := hmac.New(sha256.New, k.macKey)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// Fingerprint names the key without revealing it: a keyed hash of a fixed
// string, so two processes can tell whether they hold the same key by
// comparing fingerprints, and the store can record which key its secrets
// belong to.
func (k *Keys) Fingerprint() string {
	return k.MAC("fingerprint", "sspr.key")[:32]
}
