package identity

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// keyFileHeader is the first line WriteKeyFile writes.
const keyFileHeader = "# irohspoke secret key (Ed25519 seed); keep private"

// maxKeyFileSize bounds what ReadKeyFile reads; a real key file is ~120 bytes.
const maxKeyFileSize = 64 << 10

// WriteKeyFile stores k at path in the key file format described in the
// package documentation, with mode 0600. Unless force is set it refuses to
// replace an existing file (ErrKeyFileExists). The file is written to a
// temporary name in the same directory and then moved into place, so
// readers never see a partial key.
func WriteKeyFile(path string, k SecretKey, force bool) error {
	if k.IsZero() {
		return errors.New("identity: refusing to write the zero SecretKey")
	}
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%w: %s (pass force to overwrite)", ErrKeyFileExists, path)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".irohspoke-key-*.tmp")
	if err != nil {
		return fmt.Errorf("identity: writing key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // no-op once moved into place

	seed := k.Bytes()
	content := fmt.Sprintf("%s\n%x\n", keyFileHeader, seed[:])
	if err := writeAndClose(tmp, content); err != nil {
		return fmt.Errorf("identity: writing key file: %w", err)
	}
	if err := os.Chmod(tmpName, 0o600); err != nil {
		return fmt.Errorf("identity: writing key file: %w", err)
	}
	if force {
		err = os.Rename(tmpName, path)
	} else {
		err = placeNoClobber(tmpName, path)
	}
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s (pass force to overwrite)", ErrKeyFileExists, path)
		}
		return fmt.Errorf("identity: writing key file: %w", err)
	}
	return nil
}

func writeAndClose(f *os.File, content string) error {
	_, err := io.WriteString(f, content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// placeNoClobber moves tmp to path only if path does not exist. A hard link
// makes the existence check and the placement one atomic step; file systems
// without hard links fall back to a checked rename.
func placeNoClobber(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	if _, serr := os.Lstat(path); serr == nil {
		return fs.ErrExist
	}
	return os.Rename(tmp, path)
}

// ReadKeyFile loads a key written by WriteKeyFile. Except on Windows, it
// refuses a file that group or others may read or write
// (ErrKeyFilePermissions), since the key is the endpoint's identity.
func ReadKeyFile(path string) (SecretKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return SecretKey{}, fmt.Errorf("identity: reading key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return SecretKey{}, fmt.Errorf("identity: reading key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return SecretKey{}, fmt.Errorf("%w: %s is not a regular file", ErrInvalidKeyFile, path)
	}
	if runtime.GOOS != "windows" {
		if perm := info.Mode().Perm(); perm&0o066 != 0 {
			return SecretKey{}, fmt.Errorf("%w: %s has mode %04o, so other users can read or change the key; fix with: chmod 600 %s",
				ErrKeyFilePermissions, path, perm, path)
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return SecretKey{}, fmt.Errorf("identity: reading key file: %w", err)
	}
	if len(data) > maxKeyFileSize {
		return SecretKey{}, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidKeyFile, path, maxKeyFileSize)
	}
	k, err := parseKeyFile(string(data))
	if err != nil {
		return SecretKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// parseKeyFile accepts comment lines starting with '#' and exactly one line
// of 64 lowercase hex digits, each line ending in '\n' except possibly the
// last. Anything else (blank lines, spaces, CR, base32) is refused so that a
// damaged or foreign file is noticed rather than guessed at.
func parseKeyFile(content string) (SecretKey, error) {
	content = strings.TrimSuffix(content, "\n")
	var keyLine string
	found := false
	for i, line := range strings.Split(content, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if found {
			return SecretKey{}, fmt.Errorf("%w: unexpected content on line %d", ErrInvalidKeyFile, i+1)
		}
		if len(line) != 64 {
			return SecretKey{}, fmt.Errorf("%w: line %d is not 64 lowercase hex digits", ErrInvalidKeyFile, i+1)
		}
		keyLine, found = line, true
	}
	if !found {
		return SecretKey{}, fmt.Errorf("%w: no key line", ErrInvalidKeyFile)
	}
	var seed [32]byte
	if err := decodeLowerHex(seed[:], keyLine); err != nil {
		return SecretKey{}, fmt.Errorf("%w: %w", ErrInvalidKeyFile, err)
	}
	return newSecretKey(seed), nil
}
