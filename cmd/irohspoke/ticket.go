package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/alkdev/irohspoke/identity"
)

var ticketCommand = &command{
	name:    "ticket",
	summary: "decode or encode iroh endpoint tickets",
	args:    "<subcommand> [flags] [arguments]",
	help: `
Endpoint tickets ("endpoint..." strings) carry an EndpointId and the relay
URLs and direct addresses it can be reached at, in iroh 1.0's format.`,
}

var ticketDecodeCommand = &command{
	name:    "decode",
	summary: "print a ticket's contents as JSON",
	args:    "TICKET",
	help: `
Prints one JSON object on stdout:

  {"endpointId": "<64 hex digits>", "relayUrl": "<url>" or null,
   "addrs": ["1.2.3.4:5", "[2001:db8::1]:6"]}

"addrs" is always an array. When the ticket names several relays, "relayUrl"
is the first and "relayUrls" lists all of them. Custom transport addresses, if
any, are listed in "customAddrs". TICKET "-" reads the ticket from stdin.`,
	flags: func(fs *flag.FlagSet) runFunc {
		return func(_ context.Context, args []string, stdin io.Reader, stdout, _ io.Writer) error {
			if len(args) == 0 {
				return usageErrorf("missing TICKET argument")
			}
			if len(args) > 1 {
				return usageErrorf("unexpected argument %q (give one ticket)", args[1])
			}
			text := args[0]
			if text == "-" {
				line, err := readLine(stdin)
				if errors.Is(err, errNoInput) {
					return usageErrorf("no ticket on stdin")
				}
				if err != nil {
					return fmt.Errorf("reading the ticket from stdin: %w", err)
				}
				text = line
			}
			t, err := identity.ParseTicket(text)
			if err != nil {
				return usageErrorf("%s", describe(err))
			}
			out, err := json.Marshal(decodedTicket(t))
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "%s\n", out)
			return err
		}
	},
}

// ticketJSON is the output of "ticket decode"; the field order is the
// documented one.
type ticketJSON struct {
	EndpointID  string       `json:"endpointId"`
	RelayURL    *string      `json:"relayUrl"`
	RelayURLs   []string     `json:"relayUrls,omitempty"`
	Addrs       []string     `json:"addrs"`
	CustomAddrs []customJSON `json:"customAddrs,omitempty"`
}

type customJSON struct {
	ID   uint64 `json:"id"`
	Data string `json:"data"` // hex
}

func decodedTicket(t identity.EndpointAddr) ticketJSON {
	out := ticketJSON{EndpointID: t.ID.String(), Addrs: make([]string, 0, len(t.Addrs))}
	if len(t.Relays) > 0 {
		out.RelayURL = &t.Relays[0]
	}
	if len(t.Relays) > 1 {
		out.RelayURLs = t.Relays
	}
	for _, a := range t.Addrs {
		out.Addrs = append(out.Addrs, a.String())
	}
	for _, c := range t.Custom {
		out.CustomAddrs = append(out.CustomAddrs, customJSON{ID: c.ID, Data: hex.EncodeToString(c.Data)})
	}
	return out
}

var ticketEncodeCommand = &command{
	name:    "encode",
	summary: "build a ticket from an EndpointId and addresses",
	args:    "--id ID [--relay URL]... [--addr IP:PORT]...",
	help: `
Prints the iroh 1.0 endpoint ticket for an EndpointId, optional relay URLs and
optional direct addresses. Both --relay and --addr may be repeated. Addresses
are IP literals with a port ("1.2.3.4:5", "[2001:db8::1]:6"); host names are
not allowed in tickets.`,
	flags: func(fs *flag.FlagSet) runFunc {
		id := fs.String("id", "", "the endpoint's `ID` (64 hex digits or base32)")
		var relays, addrs stringList
		fs.Var(&relays, "relay", "a relay `URL`, e.g. https://relay.example.com (repeatable)")
		fs.Var(&addrs, "addr", "a direct address `IP:PORT` (repeatable)")
		return func(_ context.Context, args []string, _ io.Reader, stdout, _ io.Writer) error {
			if err := noArgs(args); err != nil {
				return err
			}
			t, err := ticketFromFlags(*id, relays, addrs)
			if err != nil {
				return err
			}
			if _, err := t.MarshalBinary(); err != nil {
				return usageErrorf("cannot encode ticket: %s", describe(err))
			}
			_, err = fmt.Fprintln(stdout, t.String())
			return err
		}
	},
}

func ticketFromFlags(id string, relays, addrs []string) (identity.EndpointAddr, error) {
	var t identity.EndpointAddr
	if id == "" {
		return t, usageErrorf("missing --id")
	}
	var err error
	if t.ID, err = identity.ParseEndpointID(id); err != nil {
		return t, usageErrorf("invalid --id: %s", describe(err))
	}
	for _, r := range relays {
		norm, err := identity.NormalizeRelayURL(r)
		if err != nil {
			return t, usageErrorf("invalid --relay: %s", describe(err))
		}
		t.Relays = append(t.Relays, norm)
	}
	for _, a := range addrs {
		ap, err := parseAddr(a)
		if err != nil {
			return t, err
		}
		t.Addrs = append(t.Addrs, ap)
	}
	return t, nil
}

// parseAddr parses an --addr value, explaining the common mistakes.
func parseAddr(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err == nil {
		if ap.Addr().Zone() != "" {
			return ap, usageErrorf("invalid --addr %q: tickets cannot store an IPv6 zone", s)
		}
		return ap, nil
	}
	if a, aerr := netip.ParseAddr(strings.Trim(s, "[]")); aerr == nil {
		return ap, usageErrorf("invalid --addr %q: missing port (want IP:PORT, e.g. %s)",
			s, netip.AddrPortFrom(a.WithZone(""), 1234))
	}
	return ap, usageErrorf("invalid --addr %q: want an IP address and port, e.g. 1.2.3.4:5 or [2001:db8::1]:6", s)
}

func init() {
	ticketCommand.subcommands = linkParents(ticketCommand, ticketDecodeCommand, ticketEncodeCommand)
}
