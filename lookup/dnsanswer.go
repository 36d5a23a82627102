package lookup

// The DNS client builds its queries and reads its answers with
// golang.org/x/net/dns/dnsmessage, a strict, well-fuzzed codec maintained
// with Go (and used by its resolver). The package's own codec (dns.go)
// stays for the signed packets and the server: a pkarr packet must be
// encoded byte for byte as iroh's (name compression included) and its
// records kept as raw RDATA to be re-served, and the server mirrors the
// parsing rules of iroh's Rust parser (the reserved Z bit is an error),
// which dnsmessage does not.

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// maxCNAMEHops bounds the CNAME chain followed inside one answer.
const maxCNAMEHops = 8

// maxTXTBytes bounds the TXT data one answer may carry. An iroh record is
// re-served from a pkarr packet, whose DNS part is at most 1000 bytes, so
// more than that is not a record any endpoint published.
const maxTXTBytes = 1000

// errNotOurs: a well-formed response to another query (ID or question
// differs). Over UDP it may be spoofed or late, so the client waits on.
var errNotOurs = errors.New("answer to another query")

// txtAnswer is what one DNS server said about one TXT question.
type txtAnswer struct {
	rcode     dnsmessage.RCode
	truncated bool
	size      int // TXT bytes in records
	// records are the TXT records at the name (or a CNAME target of it
	// given in the same answer), each one's strings concatenated.
	records []string
}

// newTXTQuery encodes a recursive TXT query for name with the EDNS UDP
// size ednsSize.
func newTXTQuery(id uint16, name string) ([]byte, error) {
	qname, err := dnsmessage.NewName(fqdn(name))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadName, err)
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 128), dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(dnsmessage.Question{Name: qname, Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadName, err)
	}
	if err := b.StartAdditionals(); err != nil {
		return nil, err
	}
	var opt dnsmessage.ResourceHeader
	if err := opt.SetEDNS0(ednsSize, dnsmessage.RCodeSuccess, false); err != nil {
		return nil, err
	}
	if err := b.OPTResource(opt, dnsmessage.OPTResource{}); err != nil {
		return nil, err
	}
	return b.Finish()
}

// parseTXTAnswer reads msg as the answer to query id about name's TXT
// records. It returns errNotOurs for a response to another query and
// ErrMalformedDNS for anything that does not parse.
func parseTXTAnswer(msg []byte, id uint16, name string) (txtAnswer, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return txtAnswer{}, fmt.Errorf("%w: %w", ErrMalformedDNS, err)
	}
	if !h.Response || h.ID != id {
		return txtAnswer{}, errNotOurs
	}
	qs, err := p.AllQuestions()
	if err != nil {
		return txtAnswer{}, fmt.Errorf("%w: %w", ErrMalformedDNS, err)
	}
	if len(qs) != 1 || qs[0].Type != dnsmessage.TypeTXT || !equalName(qs[0].Name.String(), name) {
		return txtAnswer{}, fmt.Errorf("%w (question %s)", errNotOurs, describeQuestions(qs))
	}
	ans := txtAnswer{rcode: h.RCode, truncated: h.Truncated}
	names := []string{name}
	for {
		rh, err := p.AnswerHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			return ans, nil
		}
		if err != nil {
			return txtAnswer{}, fmt.Errorf("%w: %w", ErrMalformedDNS, err)
		}
		if err := readAnswer(&p, rh, &names, &ans); err != nil {
			return txtAnswer{}, fmt.Errorf("%w: %w", ErrMalformedDNS, err)
		}
		if ans.size > maxTXTBytes {
			return txtAnswer{}, fmt.Errorf("%w: more than %d bytes of TXT records for %s; an iroh record fits in %d", ErrMessageTooLarge, maxTXTBytes, shorten(name), maxTXTBytes)
		}
	}
}

// readAnswer consumes one answer record: a TXT record at one of names is
// kept, a CNAME from one of them adds its target, anything else is
// skipped.
func readAnswer(p *dnsmessage.Parser, rh dnsmessage.ResourceHeader, names *[]string, ans *txtAnswer) error {
	ours := rh.Class == dnsmessage.ClassINET && containsName(*names, rh.Name.String())
	switch {
	case ours && rh.Type == dnsmessage.TypeTXT:
		txt, err := p.TXTResource()
		if err != nil {
			return err
		}
		rec := strings.Join(txt.TXT, "")
		ans.size += len(rec)
		ans.records = append(ans.records, rec)
		return nil
	case ours && rh.Type == dnsmessage.TypeCNAME && len(*names) <= maxCNAMEHops:
		cname, err := p.CNAMEResource()
		if err != nil {
			return err
		}
		*names = append(*names, cname.CNAME.String())
		return nil
	}
	return p.SkipAnswer()
}

func containsName(names []string, name string) bool {
	for _, n := range names {
		if equalName(n, name) {
			return true
		}
	}
	return false
}

func describeQuestions(qs []dnsmessage.Question) string {
	if len(qs) != 1 {
		return fmt.Sprintf("count %d", len(qs))
	}
	return fmt.Sprintf("%s %s", shorten(qs[0].Name.String()), qs[0].Type)
}

func fqdn(name string) string {
	if strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}
