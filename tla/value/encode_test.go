package value

import (
	"bytes"
	"errors"
	"testing"

	"pgregory.net/rapid"
)

// genEncodable draws finite values of every encodable kind, nested: records
// (through a RecordMaker, so they share domains as the evaluator's do),
// tuples, functions on model values, sets of them, intervals.
func genEncodable(tab *Interner, rm *RecordMaker) *rapid.Generator[Value] {
	models := []Value{tab.Model("r1"), tab.Model("r2"), tab.Model("r3")}
	strs := []Value{tab.String("prepared"), tab.String("aborted"), tab.String("")}
	var gen func(depth int) *rapid.Generator[Value]
	gen = func(depth int) *rapid.Generator[Value] {
		return rapid.Custom(func(t *rapid.T) Value {
			k := rapid.IntRange(0, 9).Draw(t, "kind")
			if depth > 2 {
				k %= 5
			}
			switch k {
			case 0:
				return Bool(rapid.Bool().Draw(t, "b"))
			case 1:
				return Int(rapid.Int32().Draw(t, "i"))
			case 2:
				return rapid.SampledFrom(strs).Draw(t, "s")
			case 3:
				return rapid.SampledFrom(models).Draw(t, "m")
			case 4:
				lo := rapid.Int32Range(-5, 5).Draw(t, "lo")
				return NewInterval(lo, lo+rapid.Int32Range(-1, 4).Draw(t, "len"))
			case 5:
				elems := rapid.SliceOfN(gen(depth+1), 0, 4).Draw(t, "elems")
				// Sets of one kind only (mixed kinds are incomparable).
				same := elems[:0]
				for _, e := range elems {
					if e.Kind() == elems[0].Kind() && e.Kind() != KindModel {
						same = append(same, e)
					}
				}
				s, err := NewSet(same...)
				if err != nil {
					return Empty
				}
				return s
			case 6:
				return Tuple(rapid.SliceOfN(gen(depth+1), 0, 3).Draw(t, "tuple")...)
			case 7:
				return rm.Make([]Value{gen(depth+1).Draw(t, "a"), gen(depth+1).Draw(t, "b")})
			case 8:
				rng := rapid.SliceOfN(gen(depth+1), 3, 3).Draw(t, "rng")
				f, err := NewFunc([]Value{models[0], models[1], models[2]}, rng)
				if err != nil {
					t.Fatal(err)
				}
				return f
			default:
				f, err := NewFunc([]Value{Int(2), Int(5)}, rapid.SliceOfN(gen(depth+1), 2, 2).Draw(t, "rng"))
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
		})
	}
	return gen(0)
}

// TestEncodeRoundTrip: every value decodes to one equal to it, with the
// same hash and printed form, and functions on equal domains share one
// domain slice after decoding.
func TestEncodeRoundTrip(t *testing.T) {
	tab := NewInterner()
	rm, err := NewRecordMaker(tab, []string{"type", "bal"})
	if err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(t *rapid.T) {
		vs := rapid.SliceOfN(genEncodable(tab, rm), 1, 4).Draw(t, "values")
		var enc Encoder
		var buf []byte
		for _, v := range vs {
			if buf, err = enc.AppendEncoded(buf, v); err != nil {
				t.Fatalf("encode %s: %v", v, err)
			}
		}
		rest := buf
		var dec []Value
		var d *Decoder
		if rapid.Bool().Draw(t, "cache") {
			d = &Decoder{}
			// Decoding twice gives the values remembered the first time.
			if _, _, err := d.Decode(buf); err != nil {
				t.Fatal(err)
			}
		}
		for i, v := range vs {
			var got Value
			if got, rest, err = d.Decode(rest); err != nil {
				t.Fatalf("decode %d (%s): %v", i, v, err)
			}
			if eq, err := Equal(got, v); err != nil || !eq {
				t.Fatalf("decoded %s, encoded %s (%v)", got, v, err)
			}
			if got.Hash() != v.Hash() || got.String() != v.String() {
				t.Fatalf("decoded %s hash %x, encoded %s hash %x", got, got.Hash(), v, v.Hash())
			}
			dec = append(dec, got)
		}
		if len(rest) != 0 {
			t.Fatalf("%d bytes left after decoding", len(rest))
		}
		// Records of one constructor share their domain after decoding.
		var firstDom *Value
		for _, v := range dec {
			if f, ok := v.(*Func); ok && f.Shape() == ShapeRecord && len(f.dom) == 2 {
				if firstDom == nil {
					firstDom = &f.dom[0]
				} else if &f.dom[0] != firstDom {
					t.Fatalf("decoded records do not share their domain")
				}
			}
		}
	})
}

// TestEncodeRefusesLazySets: a lazy set has no compact encoding; the
// buffer is returned as it was.
func TestEncodeRefusesLazySets(t *testing.T) {
	var enc Encoder
	buf := []byte{7}
	out, err := enc.AppendEncoded(buf, Tuple(Int(1), NewSubset(NewInterval(1, 3))))
	if !errors.Is(err, ErrNotEncodable) {
		t.Fatalf("SUBSET 1..3: err %v", err)
	}
	if len(out) != 1 || out[0] != 7 {
		t.Fatalf("buffer changed: %v", out)
	}
}

// TestDecodeRejectsGarbage: truncated encodings and unknown tags are
// ErrBadEncoding, never a panic.
func TestDecodeRejectsGarbage(t *testing.T) {
	var enc Encoder
	tab := NewInterner()
	s, err := NewSet(Tuple(Int(300), tab.String("x")), Tuple(Int(-2), tab.String("y")))
	if err != nil {
		t.Fatal(err)
	}
	buf, err := enc.AppendEncoded(nil, s)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(buf); i++ {
		if _, _, err := Decode(buf[:i]); !errors.Is(err, ErrBadEncoding) {
			t.Fatalf("prefix of %d bytes: err %v", i, err)
		}
	}
	for _, b := range [][]byte{{0xff}, {encFunc, 9}, {encStr, 0xff, 0xff, 0xff, 0xff, 0x0f}, {encSet, 0xff, 0x01}, {encSet, 1, 3, encTrue, encTrue, encTrue}, {encTuple, 3, 1, encTrue}} {
		if _, _, err := Decode(b); !errors.Is(err, ErrBadEncoding) {
			t.Fatalf("%x: err %v", b, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	var enc Encoder
	tab := NewInterner()
	rm, _ := NewRecordMaker(tab, []string{"a", "b"})
	s, _ := NewSet(rm.Make([]Value{Int(1), tab.Model("m")}), rm.Make([]Value{Int(2), NewInterval(1, 3)}))
	seed, _ := enc.AppendEncoded(nil, s)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Decoder
		v, _, err := d.Decode(b)
		if err != nil {
			if !errors.Is(err, ErrBadEncoding) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		var e Encoder
		enc, err := e.AppendEncoded(nil, v)
		if err != nil {
			t.Fatalf("decoded %s does not encode: %v", v, err)
		}
		// parse∘marshal = identity: the encoding of a decoded value decodes,
		// whole, to the same value, which encodes to the same bytes (the
		// input itself may differ: varints have several spellings).
		var d2 Decoder
		v2, rest, err := d2.Decode(enc)
		if err != nil {
			t.Fatalf("the encoding %x of %s does not decode: %v", enc, v, err)
		}
		if len(rest) != 0 {
			t.Fatalf("the encoding %x of %s decodes with %d bytes left", enc, v, len(rest))
		}
		// Compared as printed, not with Equal: the printed form tells the
		// representation too (1..3 is not {1, 2, 3} here), and Equal would
		// enumerate a decoded interval of a billion elements.
		if v.String() != v2.String() {
			t.Fatalf("%s encodes to %x, which decodes to %s", v, enc, v2)
		}
		var e2 Encoder
		enc2, err := e2.AppendEncoded(nil, v2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("%s encodes to %x, its decoding to %x (%v)", v, enc, enc2, err)
		}
	})
}

// TestDecoderSharesRepeatedValues: a Decoder gives the same record for the
// same encoding in two states, so comparisons stop at equal pointers.
func TestDecoderSharesRepeatedValues(t *testing.T) {
	tab := NewInterner()
	rm, err := NewRecordMaker(tab, []string{"type", "bal"})
	if err != nil {
		t.Fatal(err)
	}
	msg := rm.Make([]Value{tab.String("phase1a"), Int(1)})
	s1, _ := NewSet(msg, rm.Make([]Value{tab.String("phase2a"), Int(0)}))
	s2, _ := NewSet(msg)
	var enc Encoder
	b1, err := enc.AppendEncoded(nil, s1)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := enc.AppendEncoded(nil, s2)
	if err != nil {
		t.Fatal(err)
	}
	var d Decoder
	v1, _, err := d.Decode(b1)
	if err != nil {
		t.Fatal(err)
	}
	v2, _, err := d.Decode(b2)
	if err != nil {
		t.Fatal(err)
	}
	if v1.(*Set).At(0) != v2.(*Set).At(0) {
		t.Fatalf("the record %s was decoded twice", msg)
	}
	if v1.(*Set).At(1) == v2.(*Set).At(0) {
		t.Fatalf("different records decoded to one")
	}
}

// TestDecoderRemembersOnlyItsOwn: more distinct values than the Decoder
// has slots, each decoded twice, always decode to themselves: a slot that
// another encoding took is never answered for this one.
func TestDecoderRemembersOnlyItsOwn(t *testing.T) {
	var enc Encoder
	var d Decoder
	for round := range 2 {
		for i := range 3 * cacheSlots {
			v := Tuple(Int(int32(i)), Int(int32(i%7)))
			b, err := enc.AppendEncoded(nil, v)
			if err != nil {
				t.Fatal(err)
			}
			got, rest, err := d.Decode(b)
			if err != nil || len(rest) != 0 {
				t.Fatalf("%s: %v, %d bytes left", v, err, len(rest))
			}
			if eq, err := Equal(got, v); err != nil || !eq || got.Hash() != v.Hash() {
				t.Fatalf("round %d: %s decoded as %s", round, v, got)
			}
		}
	}
}

// TestEncoderMemoAsFresh: an Encoder that remembers the encodings of the
// values it met gives the bytes a fresh one gives, for values met again
// (the same pointers), values equal to them (other pointers), and values
// holding them, across more encodings than its memo keeps.
func TestEncoderMemoAsFresh(t *testing.T) {
	tab := NewInterner()
	rm, err := NewRecordMaker(tab, []string{"type", "bal"})
	if err != nil {
		t.Fatal(err)
	}
	var long Encoder
	var met []Value
	rapid.Check(t, func(t *rapid.T) {
		vs := rapid.SliceOfN(genEncodable(tab, rm), 1, 4).Draw(t, "values")
		if len(met) > 0 && rapid.Bool().Draw(t, "again") {
			vs = append(vs, met[rapid.IntRange(0, len(met)-1).Draw(t, "old")])
		}
		if s, err := NewSet(vs...); err == nil {
			vs = append(vs, s, Tuple(vs...)) // holding the values met
		}
		for _, v := range vs {
			var fresh Encoder
			want, err := fresh.AppendEncoded(nil, v)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				got, err := long.AppendEncoded([]byte{9}, v)
				if err != nil || !bytes.Equal(got[1:], want) || got[0] != 9 {
					t.Fatalf("%s: remembering encoder gave %x, %v; fresh %x", v, got, err, want)
				}
			}
			met = append(met, v)
		}
	})
	// More bytes than the memo keeps: it starts again and stays right.
	var big []Value
	for i := range 3 * encMemoBytes / 16 {
		big = append(big, rm.Make([]Value{Int(i), tab.String("x")}))
	}
	for round := range 2 {
		for _, v := range big {
			var fresh Encoder
			want, _ := fresh.AppendEncoded(nil, v)
			if got, err := long.AppendEncoded(nil, v); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("round %d: %s: %x, %v; fresh %x", round, v, got, err, want)
			}
		}
	}
}

// TestEncoderForgetsArenaFuncs: an arena function is refilled once its
// epoch is released, so an Encoder never remembers its encoding: encoded
// again with other values, it gives the new ones.
func TestEncoderForgetsArenaFuncs(t *testing.T) {
	var a Arena
	var enc Encoder
	f := TupleIn(&a, 2)
	SetIn(f, 0, Int(1))
	SetIn(f, 1, Int(2))
	first, err := enc.AppendEncoded(nil, DoneIn(f))
	if err != nil {
		t.Fatal(err)
	}
	SetIn(f, 1, Int(3)) // as a reused slab would
	g := DoneIn(f)
	got, err := enc.AppendEncoded(nil, g)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := new(Encoder).AppendEncoded(nil, Tuple(Int(1), Int(3)))
	if !bytes.Equal(got, want) || bytes.Equal(got, first) {
		t.Fatalf("arena tuple re-encoded as %x (first %x), want %x", got, first, want)
	}
}

// TestDecodeAllocatesOncePerValue: a decoded set, tuple or function is one
// allocation, its elements with it (a nil Decoder, which remembers
// nothing: every value is made); empty ones are the shared <<>> and {}.
func TestDecodeAllocatesOncePerValue(t *testing.T) {
	tab := NewInterner()
	rec, err := Record(tab, []string{"type", "clock"}, []Value{tab.String("req"), Int(3)})
	if err != nil {
		t.Fatal(err)
	}
	set, err := NewSet(Int(1), Int(2), Int(3))
	if err != nil {
		t.Fatal(err)
	}
	// 4 composite values: the outer tuple, the inner tuple, the record
	// and the set; <<>> and {} are shared.
	v := Tuple(Tuple(rec, EmptyTuple), set, Empty, Int(7))
	var e Encoder
	enc, err := e.AppendEncoded(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	var d *Decoder
	got, _, err := d.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if eq, err := Equal(got, v); err != nil || !eq || got.Hash() != v.Hash() {
		t.Fatalf("decoded %s (hash %x), want %s (hash %x)", got, got.Hash(), v, v.Hash())
	}
	if got.(*Func).rng[0].(*Func).rng[1] != EmptyTuple || got.(*Func).rng[2] != Value(Empty) {
		t.Errorf("empty values decoded anew: %s", got)
	}
	if n := testing.AllocsPerRun(100, func() { _, _, _ = d.Decode(enc) }); n != 4 {
		t.Errorf("%v allocations per decode, want 4", n)
	}
}

// TestDecoderKeysWithoutAllocation: a Decoder keeps the encodings of the
// values it remembers in one buffer, so a value decoded the first time
// costs its own allocation only; after the buffer has filled and started
// again (more than maxDecoderKeys bytes of distinct values), what it
// returns is still the value encoded, and a value decoded again is the one
// it remembered.
func TestDecoderKeysWithoutAllocation(t *testing.T) {
	var e Encoder
	encode := func(i int) []byte {
		// small integers: boxing them allocates nothing
		enc, err := e.AppendEncoded(nil, Tuple(Int(int32(i%200)), Int(int32(i/200%200)), Int(int32(i/40000))))
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	d := &Decoder{}
	next := 0
	decodeNew := func(n int) {
		for k := 0; k < n; k++ {
			enc := encode(next)
			v, _, err := d.Decode(enc)
			if err != nil {
				t.Fatal(err)
			}
			if f := v.(*Func); f.Len() != 3 || f.RangeAt(0) != Int(int32(next%200)) || f.RangeAt(1) != Int(int32(next/200%200)) {
				t.Fatalf("decoded %s for %d", v, next)
			}
			next++
		}
	}
	decodeNew(3 * maxDecoderKeys / len(encode(1<<20))) // the table at its largest, the keys started again (twice)
	last := encode(next - 1)
	a, _, _ := d.Decode(last)
	b, _, _ := d.Decode(last)
	if a != b {
		t.Errorf("a value decoded twice, after the keys started again, is two values")
	}
	// AllocsPerRun runs the function twice (once to warm up): two batches
	// of new encodings, made before
	var batches [2][][]byte
	for b := range batches {
		for i := 0; i < 1000; i++ {
			batches[b] = append(batches[b], encode(next))
			next++
		}
	}
	round := 0
	allocs := testing.AllocsPerRun(1, func() {
		for _, enc := range batches[round] {
			if _, _, err := d.Decode(enc); err != nil {
				t.Fatal(err)
			}
		}
		round++
	})
	if allocs > 1010 {
		t.Errorf("%v allocations to decode 1,000 new values, want about 1,000 (one per value)", allocs)
	}
}
