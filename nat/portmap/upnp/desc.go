package upnp

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// Service types that carry port mappings, in order of preference.
const (
	WANIPConnection2  = "urn:schemas-upnp-org:service:WANIPConnection:2"
	WANIPConnection1  = "urn:schemas-upnp-org:service:WANIPConnection:1"
	WANPPPConnection1 = "urn:schemas-upnp-org:service:WANPPPConnection:1"
)

var wanServicePreference = []string{WANIPConnection2, WANIPConnection1, WANPPPConnection1}

// MaxDescription bounds a device description document.
const MaxDescription = 64 << 10

// maxDeviceDepth bounds how deep embedded devices are searched; an IGD
// nests three levels (IGD, WANDevice, WANConnectionDevice).
const maxDeviceDepth = 8

// ErrNoWANService means the description has no WAN connection service with
// a control URL.
var ErrNoWANService = errors.New("upnp: no WANIPConnection or WANPPPConnection service")

// ErrDescription means the device description is not a UPnP root document.
var ErrDescription = errors.New("upnp: malformed device description")

// Service is one service of a device description.
type Service struct {
	Type       string
	ControlURL string // as written, relative or absolute
}

// Description is the part of a device description a port mapper needs.
type Description struct {
	URLBase string    // UPnP 1.0 base for relative URLs, often empty
	WAN     []Service // WAN connection services found anywhere in the tree
}

type xmlService struct {
	Type       string `xml:"serviceType"`
	ControlURL string `xml:"controlURL"`
}

type xmlDevice struct {
	Services []xmlService `xml:"serviceList>service"`
	Devices  []xmlDevice  `xml:"deviceList>device"`
}

type xmlRoot struct {
	XMLName xml.Name  `xml:"root"`
	URLBase string    `xml:"URLBase"`
	Device  xmlDevice `xml:"device"`
}

// ParseDescription decodes a device description and collects its WAN
// connection services.
func ParseDescription(b []byte) (Description, error) {
	if len(b) > MaxDescription {
		return Description{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(b))
	}
	var root xmlRoot
	if err := xml.Unmarshal(b, &root); err != nil {
		return Description{}, fmt.Errorf("%w: %v", ErrDescription, err)
	}
	d := Description{URLBase: strings.TrimSpace(root.URLBase)}
	collectWAN(&d, root.Device, 0)
	if len(d.WAN) == 0 {
		return d, ErrNoWANService
	}
	return d, nil
}

func collectWAN(d *Description, dev xmlDevice, depth int) {
	if depth > maxDeviceDepth {
		return
	}
	for _, s := range dev.Services {
		typ, ctl := strings.TrimSpace(s.Type), strings.TrimSpace(s.ControlURL)
		if ctl != "" && wanRank(typ) >= 0 {
			d.WAN = append(d.WAN, Service{Type: typ, ControlURL: ctl})
		}
	}
	for _, sub := range dev.Devices {
		collectWAN(d, sub, depth+1)
	}
}

func wanRank(typ string) int {
	for i, t := range wanServicePreference {
		if typ == t {
			return i
		}
	}
	return -1
}

// Preferred returns the best WAN service: WANIPConnection:2, then :1, then
// WANPPPConnection:1.
func (d Description) Preferred() (Service, bool) {
	best, rank := Service{}, len(wanServicePreference)
	for _, s := range d.WAN {
		if r := wanRank(s.Type); r >= 0 && r < rank {
			best, rank = s, r
		}
	}
	return best, rank < len(wanServicePreference)
}
