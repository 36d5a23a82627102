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

// A GSO batch received with GRO on comes back as the same datagrams, one
// per ReadFrom, with the sender's address; so do plain datagrams.
func TestReadFromSplitsCoalescedReads(t *testing.T) {
	tx, err := ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	rx, err := ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	var b []byte
	for i := 0; i < 8; i++ {
		b = append(b, bytes.Repeat([]byte{byte(i)}, 1400)...)
	}
	b = append(b, bytes.Repeat([]byte{9}, 100)...)
	to := addrOf(t, rx.LocalAddr())
	if err := tx.(*udpTransport).WriteBatch(b, 1400, to); err != nil {
		t.Fatal(err)
	}
	if err := tx.WriteTo([]byte("single"), to); err != nil {
		t.Fatal(err)
	}
	rx.(*udpTransport).conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	from := addrOf(t, tx.LocalAddr())
	buf := make([]byte, 2048)
	for i := 0; i < 10; i++ {
		n, a, err := rx.ReadFrom(buf)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		var want []byte
		switch {
		case i < 8:
			want = b[i*1400 : (i+1)*1400]
		case i == 8:
			want = b[8*1400:]
		default:
			want = []byte("single")
		}
		if !bytes.Equal(buf[:n], want) || a != from {
			t.Fatalf("datagram %d: %d bytes from %v, want %d from %v", i, n, a, len(want), from)
		}
	}
	t.Logf("GRO enabled: %v", rx.(*udpTransport).gro)
}
