package quic

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// WriteBatch must arrive as separate datagrams of segSize bytes, with and
// without segmentation offload.
func TestWriteBatchSegments(t *testing.T) {
	for _, gso := range []bool{true, false} {
		tr, err := ListenUDP("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ut := tr.(*udpTransport)
		ut.noGSO.Store(!gso)
		rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		var b []byte
		for i := 0; i < 5; i++ {
			b = append(b, bytes.Repeat([]byte{byte(i)}, 1200)...)
		}
		b = append(b, bytes.Repeat([]byte{9}, 300)...)
		if err := ut.WriteBatch(b, 1200, addrOf(t, rx.LocalAddr())); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2048)
		for i := 0; i < 6; i++ {
			rx.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, _, err := rx.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("gso=%v datagram %d: %v", gso, i, err)
			}
			want := 1200
			if i == 5 {
				want = 300
			}
			if n != want || !bytes.Equal(buf[:n], b[i*1200:i*1200+n]) {
				t.Fatalf("gso=%v datagram %d: %d bytes", gso, i, n)
			}
		}
		rx.Close()
		tr.Close()
	}
}
