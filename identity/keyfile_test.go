package identity

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestKeyFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	k := k1Secret(t)
	if err := WriteKeyFile(path, k, false); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "# irohspoke secret key (Ed25519 seed); keep private\n" + strings.Repeat("2a", 32) + "\n"
	if string(data) != want {
		t.Errorf("file content = %q, want %q", data, want)
	}
	if runtime.GOOS != "windows" {
		info, _ := os.Stat(path)
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("mode = %04o, want 0600", perm)
		}
	}
	got, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bytes() != k.Bytes() {
		t.Error("read back a different key")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestWriteKeyFileOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	first, second := k1Secret(t), mustSecret(t, k2Seed)
	if err := WriteKeyFile(path, first, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyFile(path, second, false); !errors.Is(err, ErrKeyFileExists) {
		t.Fatalf("second write without force: error = %v, want ErrKeyFileExists", err)
	}
	if got, _ := ReadKeyFile(path); got.Bytes() != first.Bytes() {
		t.Fatal("refused write still changed the file")
	}
	if err := WriteKeyFile(path, second, true); err != nil {
		t.Fatalf("forced write: %v", err)
	}
	if got, _ := ReadKeyFile(path); got.Bytes() != second.Bytes() {
		t.Fatal("forced write did not replace the key")
	}
	if err := WriteKeyFile(filepath.Join(t.TempDir(), "z"), SecretKey{}, false); err == nil {
		t.Error("zero SecretKey written")
	}
	if err := WriteKeyFile(filepath.Join(t.TempDir(), "missing", "key"), first, false); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

func TestReadKeyFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits on Windows")
	}
	path := filepath.Join(t.TempDir(), "key")
	if err := WriteKeyFile(path, k1Secret(t), false); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o602, 0o666} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := ReadKeyFile(path)
		if !errors.Is(err, ErrKeyFilePermissions) {
			t.Fatalf("mode %04o: error = %v, want ErrKeyFilePermissions", mode, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "chmod 600 "+path) {
			t.Errorf("mode %04o: message lacks the fix: %s", mode, msg)
		}
		if want := "mode 0" + octal(mode); !strings.Contains(msg, want) {
			t.Errorf("mode %04o: message %q lacks %q", mode, msg, want)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400, 0o700} {
		os.Chmod(path, mode)
		if _, err := ReadKeyFile(path); err != nil {
			t.Errorf("mode %04o refused: %v", mode, err)
		}
	}
}

func octal(m os.FileMode) string {
	const digits = "01234567"
	p := uint32(m.Perm())
	return string([]byte{digits[p>>6&7], digits[p>>3&7], digits[p&7]})
}

func TestReadKeyFileFormat(t *testing.T) {
	key := strings.Repeat("2a", 32)
	accept := []string{
		key,
		key + "\n",
		"# comment\n" + key + "\n",
		"#\n#another\n" + key + "\n# trailing comment\n",
		"# no final newline\n" + key,
	}
	reject := []string{
		"",
		"\n",
		"# only a comment\n",
		key + "\n\n",
		"\n" + key,
		key + "\r\n",
		" " + key,
		key + " ",
		strings.ToUpper(key),
		key[:63],
		key + "0",
		key + "\n" + key,
		" # indented comment\n" + key,
		"dkrjujrkfkfcuvevfbvsbcqvfivfeurcugvexebrjtfcgfdvgbsgrda",
		base32Std.Encode(mustHex(t, key)),
	}
	for _, c := range accept {
		if k, err := parseKeyFile(c); err != nil || k.Public().String() != k1Public {
			t.Errorf("parseKeyFile(%q) = %v", c, err)
		}
	}
	for _, c := range reject {
		if _, err := parseKeyFile(c); !errors.Is(err, ErrInvalidKeyFile) {
			t.Errorf("parseKeyFile(%q) error = %v, want ErrInvalidKeyFile", c, err)
		}
	}
}

func TestReadKeyFileOddFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadKeyFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error = %v", err)
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o700)
	if _, err := ReadKeyFile(sub); !errors.Is(err, ErrInvalidKeyFile) {
		t.Errorf("directory: error = %v", err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, []byte(strings.Repeat("#", maxKeyFileSize+10)), 0o600)
	if _, err := ReadKeyFile(big); !errors.Is(err, ErrInvalidKeyFile) {
		t.Errorf("oversized file: error = %v", err)
	}
}

func mustSecret(t testing.TB, s string) SecretKey {
	t.Helper()
	k, err := ParseSecretKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
