package plc

import (
	"errors"
	"fmt"
	"net"
)

// SocketTransport carries one frame per Unix datagram, so meter, gateway and
// head-end can run as separate processes on one host with the simulated PLC
// in between. Every datagram goes through the strict frame decoder.
type SocketTransport struct {
	conn    *net.UnixConn
	maxInfo int
	rbuf    []byte
}

// ListenSocket binds a datagram socket at path.
func ListenSocket(path string) (*SocketTransport, error) {
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("plc: listening on %s: %w", path, err)
	}
	// Frames of any length the format allows pass; the link on top enforces
	// the information field length it negotiated with SNRM/UA.
	return &SocketTransport{conn: c, maxInfo: MaxInfoLimit, rbuf: make([]byte, maxFrameLength+2)}, nil
}

// SendTo writes one frame to the socket at path.
func (t *SocketTransport) SendTo(path string, f Frame) error {
	b, err := f.Append(nil, t.maxInfo)
	if err != nil {
		return err
	}
	_, err = t.conn.WriteToUnix(b, &net.UnixAddr{Name: path, Net: "unixgram"})
	return err
}

// Recv returns the next frame and the sender's socket path.
func (t *SocketTransport) Recv() (Frame, string, error) {
	n, from, err := t.conn.ReadFromUnix(t.rbuf)
	if err != nil {
		if errors.Is(err, net.ErrClosed) {
			return Frame{}, "", ErrClosed
		}
		return Frame{}, "", err
	}
	f, err := DecodeFrame(t.rbuf[:n], t.maxInfo)
	if err != nil {
		return Frame{}, "", err
	}
	f.Info = append([]byte(nil), f.Info...)
	var src string
	if from != nil {
		src = from.Name
	}
	return f, src, nil
}

// Close releases the socket.
func (t *SocketTransport) Close() error { return t.conn.Close() }
