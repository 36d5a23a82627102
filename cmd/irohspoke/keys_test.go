package main

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
)

var endpointIDLine = regexp.MustCompile(`^[0-9a-f]{64}\n$`)

func TestKeygenAndID(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "spoke.key")

	r := cli(t, "", "keygen", "--out", key)
	wantOK(t, r, "keygen")
	if !endpointIDLine.MatchString(r.stdout) {
		t.Fatalf("keygen printed %q", r.stdout)
	}
	if fi, err := os.Stat(key); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	id := cli(t, "", "id", "--key", key)
	wantOK(t, id, "id")
	if id.stdout != r.stdout {
		t.Fatalf("id --key = %q, keygen said %q", id.stdout, r.stdout)
	}

	// Never replace a key silently.
	again := cli(t, "", "keygen", "-out", key)
	wantError(t, again, exitFailure, "irohspoke: keygen: ", "already exists (use --force to replace it)", "keygen again")
	if id2 := cli(t, "", "id", "--key", key); id2.stdout != r.stdout {
		t.Fatal("a refused keygen changed the key")
	}
	forced := cli(t, "", "keygen", "--force", "--out="+key)
	wantOK(t, forced, "keygen --force")
	if forced.stdout == r.stdout || cli(t, "", "id", "--key", key).stdout != forced.stdout {
		t.Fatal("--force did not replace the key")
	}
}

func TestKeygenDefaultPath(t *testing.T) {
	t.Chdir(t.TempDir())
	r := cli(t, "", "keygen")
	wantOK(t, r, "keygen")
	if id := cli(t, "", "id", "--key", defaultKeyFile); id.stdout != r.stdout {
		t.Fatalf("default key file holds %q, keygen said %q", id.stdout, r.stdout)
	}
}

func TestKeyRuntimeFailures(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose.key")
	if err := os.WriteFile(loose, []byte(k1SecretHex+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	malformed := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(malformed, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"keygen", "--out", filepath.Join(dir, "missing", "k.key")}, "no such file or directory"},
		{[]string{"id", "--key", filepath.Join(dir, "nope.key")}, "no such file or directory"},
		{[]string{"id", "--key", malformed}, "malformed key file"},
		{[]string{"id", "--key", dir}, ""},
	}
	if runtime.GOOS != "windows" {
		tests = append(tests, struct {
			args []string
			want string
		}{[]string{"id", "--key", loose}, "permissions too open"})
	}
	for _, tt := range tests {
		prefix := "irohspoke: " + tt.args[0] + ": "
		wantError(t, cli(t, "", tt.args...), exitFailure, prefix, tt.want, tt.args...)
	}
}

func TestIDFromSecret(t *testing.T) {
	tests := []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"id", "--secret-hex", k1SecretHex}, "", k1Public},
		{[]string{"id", "-secret-hex=" + k1SecretHex}, "", k1Public},
		{[]string{"id", "--secret-hex", k2Secret32}, "", k2Public},
		{[]string{"id", "--secret-hex", "-"}, "  " + k1SecretHex + "\r\n", k1Public},
	}
	for _, tt := range tests {
		r := cli(t, tt.stdin, tt.args...)
		wantOK(t, r, tt.args...)
		if r.stdout != tt.want+"\n" {
			t.Errorf("irohspoke %q = %q, want %s", tt.args, r.stdout, tt.want)
		}
	}
}
