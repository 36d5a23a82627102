// Package identity implements iroh 1.0's identity formats: endpoint ids
// (Ed25519 public keys), secret keys, endpoint tickets and relay URLs, all
// byte-identical with iroh-base 1.0 and iroh-tickets 1.0.
//
// # Endpoint ids
//
// An EndpointID is a 32-byte compressed Ed25519 point. Its canonical text is
// 64 lowercase hex characters (iroh's Display). ParseEndpointID also takes
// the 52-character RFC 4648 base32 form in either case, like iroh's FromStr,
// and rejects upper-case hex and z-base-32. z-base-32 is only for DNS names
// and pkarr (ZBase32, ParseZBase32). Verification is as strict as
// ed25519-dalek's verify_strict. SPKI and ParseSPKI convert to and from the
// 44-byte DER SubjectPublicKeyInfo carried in TLS raw public keys.
//
// # Secret keys
//
// A SecretKey is the 32-byte Ed25519 seed. It never formats or marshals its
// contents; use Bytes or WriteKeyFile deliberately.
//
// # Key file format
//
// WriteKeyFile writes a text file with mode 0600:
//
//	# irohspoke secret key (Ed25519 seed); keep private
//	<64 lowercase hex digits of the seed>
//
// each line ending in "\n". ReadKeyFile accepts any number of comment lines
// starting with '#', exactly one key line of 64 lowercase hex digits, and
// an optional final newline — nothing else (no blank lines, spaces, CR, or
// base32, although ParseSecretKey accepts base32). On systems other than
// Windows it refuses a file that group or others can read or write.
//
// # Tickets
//
// EndpointAddr is iroh's EndpointAddr, and its String form iroh's
// EndpointTicket. ParseTicket documents each leniency and
// strictness choice; in short it accepts exactly what iroh-tickets 1.0.0
// accepts (including bytes trailing the postcard value, which are ignored),
// except relay URLs irohspoke cannot use. String and MarshalBinary produce
// iroh's bytes: addresses sorted Relay < Ip < Custom, relay URLs by string,
// IPv4 before IPv6 then by address and port, duplicates removed.
//
// Custom transport addresses use the encoding of iroh 1.0.0–1.0.3. iroh's
// main branch changed it after 1.0.3; see ticket.go.
package identity
