package translog

import (
	"bytes"
	"testing"
)

func FuzzParseSignedTreeHead(f *testing.F) {
	e, _, _ := testEvidence(f)
	b, err := e.TreeHead.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := ParseSignedTreeHead(in)
		if err != nil {
			return
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(in, out) {
			t.Fatal("parse and marshal differ")
		}
	})
}

func FuzzUnmarshalEvidence(f *testing.F) {
	e, d, _ := testEvidence(f)
	b, err := e.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, d[5])
	f.Fuzz(func(t *testing.T, in, leaf []byte) {
		ev, err := UnmarshalEvidence(in)
		if err != nil {
			return
		}
		_ = ev.VerifyLeaf(leaf)
		out, err := ev.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(in, out) {
			t.Fatal("unmarshal and marshal differ")
		}
	})
}

func FuzzUnmarshalConsistency(f *testing.F) {
	e, _, _ := testEvidence(f)
	c := Consistency{Old: e.TreeHead, New: e.TreeHead}
	b, err := c.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := UnmarshalConsistency(in)
		if err != nil {
			return
		}
		_ = c.Verify()
		out, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(in, out) {
			t.Fatal("unmarshal and marshal differ")
		}
	})
}
