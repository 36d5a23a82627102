module github.com/alkdev/irohspoke

go 1.26.0

require (
	filippo.io/edwards25519 v1.2.0
	github.com/quic-go/quic-go v0.65.0
	golang.org/x/crypto v0.59.0
	golang.org/x/net v0.62.0
	lukechampine.com/blake3 v1.4.1
)

require (
	github.com/klauspost/cpuid/v2 v2.0.9 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
