package plc

import (
	"fmt"
	"io"
	"sync"

	"go.bug.st/serial"
)

// Port is a byte stream to a PLC modem (a serial port) or its stand-in in tests.
type Port interface {
	io.ReadWriteCloser
}

// SerialTransport moves frames over a serial line to a PLC modem, as the
// meter and gateway do on their hardware: frames are written whole and read
// with a StreamReader.
type SerialTransport struct {
	port    Port
	rd      *StreamReader
	maxInfo int
	wmu     sync.Mutex
	wbuf    []byte
}

// OpenSerial opens a serial PLC modem at path (e.g. /dev/ttyS1) with 8N1 at
// the given baud rate.
func OpenSerial(path string, baud int) (*SerialTransport, error) {
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("plc: opening serial port %s: %w", path, err)
	}
	return NewSerialTransport(p, DefaultMaxInfo), nil
}

// NewSerialTransport frames traffic on an already open port.
func NewSerialTransport(p Port, maxInfo int) *SerialTransport {
	return &SerialTransport{port: p, rd: NewStreamReader(p, maxInfo), maxInfo: maxInfo}
}

// Send writes one frame. It is safe to call from several goroutines.
func (t *SerialTransport) Send(f Frame) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	var err error
	if t.wbuf, err = f.Append(t.wbuf[:0], t.maxInfo); err != nil {
		return err
	}
	_, err = t.port.Write(t.wbuf)
	return err
}

// Recv reads the next frame; a corrupted frame is returned as an error and
// the next call continues with the following frame.
func (t *SerialTransport) Recv() (Frame, error) {
	f, _, err := t.rd.ReadFrame()
	if err != nil {
		return Frame{}, err
	}
	f.Info = append([]byte(nil), f.Info...)
	return f, nil
}

// Close closes the port.
func (t *SerialTransport) Close() error { return t.port.Close() }
