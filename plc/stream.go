package plc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// StreamReader cuts a byte stream (a serial line) into frames. It finds the
// opening flag, reads the length from the frame format field, reads exactly
// that many bytes and the closing flag, and decodes the frame strictly. The
// closing flag of one frame may be the opening flag of the next (IEC
// 62056-46 8.4.1.1); idle flags between frames are skipped. After a bad frame
// it resynchronises on the next flag, so line noise costs frames, never the
// stream.
type StreamReader struct {
	r         *bufio.Reader
	maxInfo   int
	afterFlag bool
	buf       []byte
}

// NewStreamReader reads frames with information fields up to maxInfo.
func NewStreamReader(r io.Reader, maxInfo int) *StreamReader {
	return &StreamReader{r: bufio.NewReaderSize(r, 4096), maxInfo: maxInfo}
}

// ReadFrame returns the next frame and its encoding; both (Info included)
// are valid until the next call. A frame that fails its checks is reported with the decoder's error;
// io.EOF ends the stream.
func (s *StreamReader) ReadFrame() (Frame, []byte, error) {
	for {
		if !s.afterFlag {
			if _, err := s.r.ReadBytes(Flag); err != nil {
				return Frame{}, nil, err
			}
			s.afterFlag = true
		}
		first, err := s.r.Peek(1)
		if err != nil {
			return Frame{}, nil, err
		}
		if first[0] == Flag {
			_, _ = s.r.ReadByte()
			continue
		}
		if first[0]>>4 != formatType3 {
			s.afterFlag = false
			return Frame{}, nil, fmt.Errorf("%w: byte %#02x after flag", ErrFormat, first[0])
		}
		hdr, err := s.r.Peek(2)
		if err != nil {
			return Frame{}, nil, err
		}
		length := int(hdr[0]&0x07)<<8 | int(hdr[1])
		if length < 2 {
			s.afterFlag = false
			return Frame{}, nil, ErrLength
		}
		s.buf = append(s.buf[:0], Flag)
		s.buf = append(s.buf, make([]byte, length+1)...)
		if _, err := io.ReadFull(s.r, s.buf[1:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return Frame{}, nil, ErrTruncated
			}
			return Frame{}, nil, err
		}
		f, err := DecodeFrame(s.buf, s.maxInfo)
		if err != nil {
			// The bytes read may contain the real next flag; resynchronise
			// from just after the opening flag by re-reading is impossible on
			// a stream, so continue from the current position.
			s.afterFlag = s.buf[len(s.buf)-1] == Flag
			return Frame{}, nil, err
		}
		s.afterFlag = true // the closing flag may open the next frame
		return f, s.buf, nil
	}
}
