package plc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func testFrames() []Frame {
	return []Frame{
		{Dest: ServerAddr(1, 17), Src: Addr1(0x10), Control: UControl(KindSNRM, true)},
		{Dest: ServerAddr(1, 17), Src: Addr1(0x10), Control: IControl(0, 0, true), Info: bytes.Repeat([]byte{Flag}, 64)},
		{Segmented: true, Dest: Addr1(0x10), Src: ServerAddr(1, 17), Control: IControl(1, 1, false), Info: []byte("load profile")},
	}
}

func TestStreamReaderResynchronises(t *testing.T) {
	fs := testFrames()
	var stream []byte
	stream = append(stream, 0x00, 0x13, Flag, Flag) // noise and idle flags
	a, _ := fs[0].Marshal()
	stream = append(stream, a...)
	b, _ := fs[1].Marshal()
	stream = append(stream, b[1:]...) // shares the previous closing flag
	bad, _ := fs[2].Marshal()
	bad[len(bad)-3] ^= 0xFF // FCS broken
	stream = append(stream, bad...)
	c, _ := fs[2].Marshal()
	stream = append(stream, c...)
	r := NewStreamReader(bytes.NewReader(stream), DefaultMaxInfo)
	var got []Frame
	var errs []error
	for {
		f, _, err := r.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f.Info = bytes.Clone(f.Info) // valid only until the next ReadFrame
		got = append(got, f)
	}
	if len(got) != 3 || len(errs) != 1 || !errors.Is(errs[0], ErrFCS) {
		t.Fatalf("got %d frames, errors %v; want 3 frames and one FCS error", len(got), errs)
	}
	if !bytes.Equal(got[1].Info, fs[1].Info) || got[2].Control != fs[2].Control {
		t.Fatal("frames altered by the stream reader")
	}
}

// openPTY returns the master end and the slave's path of a new pseudo terminal.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo terminals on this system: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	// Raw mode on the master side too, so no byte is translated.
	tio, err := unix.IoctlGetTermios(int(m.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	cfmakeraw(tio)
	if err := unix.IoctlSetTermios(int(m.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

func cfmakeraw(t *unix.Termios) {
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
}

// TestSerialThroughPseudoTerminal runs frames both ways between a
// go.bug.st/serial port on the slave of a pseudo terminal (the meter's modem
// line) and the master end (the modem).
func TestSerialThroughPseudoTerminal(t *testing.T) {
	master, slave := openPTY(t)
	defer master.Close()
	port, err := OpenSerial(slave, 9600)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	modem := NewSerialTransport(master, DefaultMaxInfo)
	done := make(chan error, 1)
	go func() {
		for _, f := range testFrames() {
			if err := port.Send(f); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i, want := range testFrames() {
		got, err := recvTimeout(modem, 5*time.Second)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got.Control != want.Control || !bytes.Equal(got.Info, want.Info) || got.Dest != want.Dest {
			t.Fatalf("frame %d altered: %+v", i, got)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// And back from the modem to the port.
	f := testFrames()[1]
	if err := modem.Send(f); err != nil {
		t.Fatal(err)
	}
	got, err := recvTimeout(port, 5*time.Second)
	if err != nil || !bytes.Equal(got.Info, f.Info) {
		t.Fatalf("modem to port: %v", err)
	}
}

func recvTimeout(t *SerialTransport, d time.Duration) (Frame, error) {
	type res struct {
		f   Frame
		err error
	}
	c := make(chan res, 1)
	go func() { f, err := t.Recv(); c <- res{f, err} }()
	select {
	case r := <-c:
		return r.f, r.err
	case <-time.After(d):
		return Frame{}, errors.New("timed out waiting for a frame")
	}
}

func TestSocketTransport(t *testing.T) {
	dir := t.TempDir()
	gwPath, mPath := filepath.Join(dir, "gw"), filepath.Join(dir, "m1")
	gw, err := ListenSocket(gwPath)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	m, err := ListenSocket(mPath)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, f := range testFrames() {
		if err := m.SendTo(gwPath, f); err != nil {
			t.Fatal(err)
		}
		got, from, err := gw.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if from != mPath || got.Control != f.Control || !bytes.Equal(got.Info, f.Info) {
			t.Fatalf("from %q got %+v", from, got)
		}
	}
	// A corrupted datagram is rejected by the decoder.
	raw, _ := testFrames()[1].Marshal()
	raw[10] ^= 1
	if _, err := m.conn.WriteToUnix(raw, gw.conn.LocalAddr().(*net.UnixAddr)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := gw.Recv(); !errors.Is(err, ErrFCS) {
		t.Fatalf("corrupted datagram: %v", err)
	}
}
