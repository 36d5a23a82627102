package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/alkdev/irohspoke/identity"
)

const defaultKeyFile = "irohspoke.key"

var keygenCommand = &command{
	name:    "keygen",
	summary: "create a secret key file and print its EndpointId",
	args:    "[--out FILE] [--force]",
	help: `
Generates a new Ed25519 secret key, writes it to FILE (default ./` + defaultKeyFile + `,
mode 0600) and prints the key's EndpointId (64 lowercase hex digits) on stdout.

An existing file is never replaced unless --force is given, so running keygen
twice cannot silently change an endpoint's identity.`,
	flags: func(fs *flag.FlagSet) runFunc {
		out := fs.String("out", defaultKeyFile, "write the secret key to `FILE`")
		force := fs.Bool("force", false, "replace FILE if it exists")
		return func(_ context.Context, args []string, _ io.Reader, stdout, _ io.Writer) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *out == "" {
				return usageErrorf("--out must not be empty")
			}
			key, err := identity.GenerateSecretKey(nil)
			if err != nil {
				return err
			}
			if err := identity.WriteKeyFile(*out, key, *force); err != nil {
				if errors.Is(err, identity.ErrKeyFileExists) {
					return fmt.Errorf("%s already exists (use --force to replace it)", *out)
				}
				return err
			}
			_, err = fmt.Fprintln(stdout, key.Public())
			return err
		}
	},
}

var idCommand = &command{
	name:    "id",
	summary: "print the EndpointId of a secret key",
	args:    "(--key FILE | --secret-hex HEX)",
	help: `
Prints the EndpointId (64 lowercase hex digits) belonging to a secret key,
given either as a key file written by keygen or as the key itself. Exactly
one of the two flags is required.

--secret-hex takes 64 lowercase hex digits (iroh's base32 form is accepted
too). "--secret-hex -" reads the key from stdin, which keeps it out of the
process list and shell history.`,
	flags: func(fs *flag.FlagSet) runFunc {
		keyFile := fs.String("key", "", "read the secret key from `FILE` (as written by keygen)")
		secret := fs.String("secret-hex", "", "the secret key as `HEX`, or - to read it from stdin")
		return func(_ context.Context, args []string, stdin io.Reader, stdout, _ io.Writer) error {
			if err := noArgs(args); err != nil {
				return err
			}
			key, err := loadKey(fs, *keyFile, *secret, stdin)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(stdout, key.Public())
			return err
		}
	},
}

// loadKey resolves the mutually exclusive --key / --secret-hex flags.
// Commands that need our identity (dial, hub) can share it.
func loadKey(fs *flag.FlagSet, keyFile, secret string, stdin io.Reader) (identity.SecretKey, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case set["key"] && set["secret-hex"]:
		return identity.SecretKey{}, usageErrorf("use either --key or --secret-hex, not both")
	case set["key"]:
		if keyFile == "" {
			return identity.SecretKey{}, usageErrorf("--key must not be empty")
		}
		return identity.ReadKeyFile(keyFile)
	case set["secret-hex"]:
		if secret == "-" {
			line, err := readLine(stdin)
			if errors.Is(err, errNoInput) {
				return identity.SecretKey{}, usageErrorf("--secret-hex -: no key on stdin")
			}
			if err != nil {
				return identity.SecretKey{}, fmt.Errorf("reading the secret key from stdin: %w", err)
			}
			secret = line
		}
		key, err := identity.ParseSecretKey(secret)
		if err != nil {
			return identity.SecretKey{}, usageErrorf("invalid --secret-hex: %s", describe(err))
		}
		return key, nil
	}
	return identity.SecretKey{}, usageErrorf("missing --key FILE or --secret-hex HEX")
}

var errNoInput = errors.New("no input")

// maxSecretLine bounds a secret read from stdin or a file.
const maxSecretLine = 4096

// readLine reads the first line of r, without surrounding white space. It
// reads byte by byte, so whatever follows the line (dial's envelopes) stays
// unread, and at most a few KiB, so a wrong pipe cannot exhaust memory.
func readLine(r io.Reader) (string, error) {
	var line []byte
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			if len(line) == maxSecretLine {
				return "", fmt.Errorf("line longer than %d bytes", maxSecretLine)
			}
			line = append(line, b[0])
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
	}
	text := strings.TrimSpace(string(line))
	if text == "" {
		return "", errNoInput
	}
	return text, nil
}
