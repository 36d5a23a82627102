// Package blake3 is BLAKE3's key derivation mode (derive_key) for a
// context and key material of up to one chunk (1024 bytes) each and a
// 32-byte output: all that the relay handshake needs. A full BLAKE3
// library brought a CPU-feature probe whose CPUID instructions cost every
// process start about 0.15 ms on a VM.
package blake3

import (
	"encoding/binary"
	"math/bits"
)

// MaxInput is the longest context or key material DeriveKey takes.
const MaxInput = chunkLen

const (
	blockLen = 64
	chunkLen = 1024

	flagChunkStart        = 1 << 0
	flagChunkEnd          = 1 << 1
	flagRoot              = 1 << 3
	flagDeriveKeyContext  = 1 << 5
	flagDeriveKeyMaterial = 1 << 6
)

// iv is BLAKE3's initial chaining value (SHA-256's).
var iv = [8]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

// permutation reorders the message words between rounds.
var permutation = [16]int{2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8}

// DeriveKey returns BLAKE3 derive_key(context, material), 32 bytes. It
// panics if either input is longer than MaxInput: callers pass fixed
// sizes.
func DeriveKey(context string, material []byte) [32]byte {
	ctxKey := hashChunk(iv, []byte(context), flagDeriveKeyContext)
	out := hashChunk(ctxKey, material, flagDeriveKeyMaterial)
	var b [32]byte
	for i, w := range out {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	return b
}

// hashChunk hashes input as the root and only chunk, keyed by key.
func hashChunk(key [8]uint32, input []byte, flags uint32) [8]uint32 {
	if len(input) > chunkLen {
		panic("blake3: input longer than one chunk")
	}
	cv := key
	start := uint32(flagChunkStart)
	for {
		n := min(len(input), blockLen)
		var block [blockLen]byte
		copy(block[:], input[:n])
		input = input[n:]
		f := flags | start
		if len(input) == 0 {
			f |= flagChunkEnd | flagRoot
		}
		cv = compress(cv, &block, uint32(n), f)
		if len(input) == 0 {
			return cv
		}
		start = 0
	}
}

// compress is BLAKE3's compression function with chunk counter 0,
// returning the first half of its output (the chaining value, or the
// root's first 32 bytes).
func compress(cv [8]uint32, block *[blockLen]byte, n, flags uint32) [8]uint32 {
	var m [16]uint32
	for i := range m {
		m[i] = binary.LittleEndian.Uint32(block[4*i:])
	}
	v := [16]uint32{
		cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
		iv[0], iv[1], iv[2], iv[3], 0, 0, n, flags,
	}
	for r := range 7 {
		round(&v, &m)
		if r < 6 {
			var p [16]uint32
			for i, j := range permutation {
				p[i] = m[j]
			}
			m = p
		}
	}
	var out [8]uint32
	for i := range out {
		out[i] = v[i] ^ v[i+8]
	}
	return out
}

// round mixes the columns, then the diagonals.
func round(v, m *[16]uint32) {
	g(v, 0, 4, 8, 12, m[0], m[1])
	g(v, 1, 5, 9, 13, m[2], m[3])
	g(v, 2, 6, 10, 14, m[4], m[5])
	g(v, 3, 7, 11, 15, m[6], m[7])
	g(v, 0, 5, 10, 15, m[8], m[9])
	g(v, 1, 6, 11, 12, m[10], m[11])
	g(v, 2, 7, 8, 13, m[12], m[13])
	g(v, 3, 4, 9, 14, m[14], m[15])
}

func g(v *[16]uint32, a, b, c, d int, x, y uint32) {
	v[a] += v[b] + x
	v[d] = bits.RotateLeft32(v[d]^v[a], -16)
	v[c] += v[d]
	v[b] = bits.RotateLeft32(v[b]^v[c], -12)
	v[a] += v[b] + y
	v[d] = bits.RotateLeft32(v[d]^v[a], -8)
	v[c] += v[d]
	v[b] = bits.RotateLeft32(v[b]^v[c], -7)
}
