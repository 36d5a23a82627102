package main

import (
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/relay/internal/websocket"
	"github.com/alkdev/irohspoke/relay/relayproto"
)

// probeFlood logs in to a rate-limited relay and sends text frames or
// WebSocket pings as fast as the relay takes them; it reports the rate the
// relay accepted over the second half of the run (once socket buffers
// are full, that is the rate the relay reads at).
func probeFlood(kind string, rate int64, dur time.Duration) error {
	r, err := startRelay("-rate", strconv.FormatInt(rate, 10))
	if err != nil {
		return err
	}
	defer r.stop()
	ws, err := floodLogin(r.Addr)
	if err != nil {
		return err
	}
	defer ws.Close(websocket.CloseNormal, "")
	var pongs atomic.Int64
	ws.OnPong = func([]byte) { pongs.Add(1) }
	var readErr atomic.Value
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				readErr.Store(err.Error())
				return
			}
		}
	}()
	var written atomic.Int64
	stop := time.Now().Add(dur)
	go func() {
		text, ping := make([]byte, 1000), make([]byte, 125)
		for time.Now().Before(stop) {
			var err error
			if kind == "ping" {
				err = ws.WriteControl(websocket.OpPing, ping)
				written.Add(int64(len(ping) + 6))
			} else {
				err = ws.WriteMessage(websocket.OpText, text)
				written.Add(int64(len(text) + 8))
			}
			if err != nil {
				return
			}
		}
	}()
	time.Sleep(dur / 2)
	w0, p0 := written.Load(), pongs.Load()
	time.Sleep(dur / 2)
	half := (dur / 2).Seconds()
	if e := readErr.Load(); e != nil {
		fmt.Printf("flood %s: connection ended: %s\n", kind, e)
	}
	fmt.Printf("flood %s: relay limit %d B/s; relay accepted %.0f B/s and sent %.0f pongs/s over the last %.0fs\n",
		kind, rate, float64(written.Load()-w0)/half, float64(pongs.Load()-p0)/half, half)
	return nil
}

func floodLogin(addr string) (*websocket.Conn, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	// A small send buffer so the written count tracks what the relay reads.
	_ = nc.(*net.TCPConn).SetWriteBuffer(16 << 10)
	ws, _, err := websocket.ClientHandshake(nc, websocket.ClientRequest{Host: addr, Path: "/relay", Subprotocols: relayproto.SubprotocolOffer})
	if err != nil {
		return nil, err
	}
	key, err := identity.GenerateSecretKey(nil)
	if err != nil {
		return nil, err
	}
	_, msg, err := ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	f, err := relayproto.ParseHandshakeFrame(msg, relayproto.RelayToClient)
	ch, ok := f.(*relayproto.ServerChallenge)
	if err != nil || !ok {
		return nil, fmt.Errorf("no challenge: %v", err)
	}
	auth, err := relayproto.SignChallenge(key.Sign, key.Public(), ch.Challenge)
	if err != nil {
		return nil, err
	}
	b, _ := auth.Append(nil)
	if err := ws.WriteMessage(websocket.OpBinary, b); err != nil {
		return nil, err
	}
	return ws, nil
}
