package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxTokenFile bounds a token file, so a wrong path (a device, a huge
// log) fails fast.
const maxTokenFile = 64 << 10

// readTokenFile reads bearer tokens from name, one per line; blank lines
// and lines starting with # are skipped. Files keep secrets out of the
// process list, where any local user can read command lines.
func readTokenFile(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > maxTokenFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxTokenFile)
	}
	var tokens []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(nil, maxTokenFile)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			return nil, fmt.Errorf("%s: a token must not contain white space", name)
		}
		tokens = append(tokens, line)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%s: no token", name)
	}
	return tokens, nil
}

// readOneToken is readTokenFile for a client, which presents one token.
func readOneToken(name string) (string, error) {
	tokens, err := readTokenFile(name)
	if err != nil {
		return "", err
	}
	if len(tokens) > 1 {
		return "", fmt.Errorf("%s: %d tokens, want one", name, len(tokens))
	}
	return tokens[0], nil
}
