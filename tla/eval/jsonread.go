package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// Reading JSON, as the Json module's JsonDeserialize and ndJsonDeserialize
// do in TLC (CommunityModules' Json.java): trace validation reads a
// system's log with them. A JSON object is a record of its members (the
// last of a repeated name counts, as in TLC), an array a tuple, a string a
// string, true and false Booleans, a number an integer. The file name is
// taken as TLC takes it: relative to the working directory.
//
// Where TLC is lenient we are strict, with an error naming the file and
// line: a number that is no integer TLC's Int holds (TLC truncates 1.5 to
// 1 and wraps 2^32), null (TLC fails too), malformed JSON, anything after
// the value, a file over maxJSONFile bytes or nested deeper than
// maxJSONDepth.
const (
	maxJSONFile  = 1 << 30
	maxJSONDepth = 512
)

// errJSON marks a JSON file that cannot be read as TLA+ values.
var errJSON = errors.New("JSON")

// compileJSONDeserialize compiles JsonDeserialize (nd false: the file is
// one JSON value) or ndJsonDeserialize (nd true: one value per nonblank
// line, the tuple of them).
func compileJSONDeserialize(nd bool) func(s scope, pos syntax.Pos, args []evalFn) evalFn {
	return func(s scope, pos syntax.Pos, args []evalFn) evalFn {
		strs := s.c.m.strs
		op := "JsonDeserialize"
		if nd {
			op = "ndJsonDeserialize"
		}
		return func(r *rt) (value.Value, error) {
			name, err := stringArg(r, args[0], pos, op)
			if err != nil {
				return nil, err
			}
			out, err := readJSONFile(name.Go(), nd, strs)
			return out, wrap(pos, err)
		}
	}
}

// readJSONFile reads the file path as JsonDeserialize (nd false) or
// ndJsonDeserialize (nd true).
func readJSONFile(path string, nd bool, strs *value.Interner) (value.Value, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errJSON, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJSONFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errJSON, path, err)
	}
	if len(data) > maxJSONFile {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", errJSON, path, maxJSONFile)
	}
	if !nd {
		v, err := parseJSONValue(data, strs)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", errJSON, path, err)
		}
		return v, nil
	}
	var vals []value.Value
	for n, line := range bytes.Split(data, []byte("\n")) {
		// Java's String.trim: every character up to the space.
		line = bytes.TrimFunc(line, func(c rune) bool { return c <= ' ' })
		if len(line) == 0 {
			continue
		}
		v, err := parseJSONValue(line, strs)
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%d: %w", errJSON, path, n+1, err)
		}
		vals = append(vals, v)
	}
	return value.Tuple(vals...), nil
}

// parseJSONValue is the value of data, which holds one JSON value and
// nothing else.
func parseJSONValue(data []byte, strs *value.Interner) (value.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := jsonValue(dec, strs, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the value")
	}
	return v, nil
}

// jsonValue reads the next value from dec.
func jsonValue(dec *json.Decoder, strs *value.Interner, depth int) (value.Value, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			var elems []value.Value
			for dec.More() {
				v, err := jsonValue(dec, strs, depth+1)
				if err != nil {
					return nil, err
				}
				elems = append(elems, v)
			}
			if _, err := dec.Token(); err != nil { // ]
				return nil, err
			}
			return value.Tuple(elems...), nil
		}
		// {: the decoder has checked the brackets match.
		var names []string
		var vals []value.Value
		at := map[string]int{}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := jsonValue(dec, strs, depth+1)
			if err != nil {
				return nil, err
			}
			k := key.(string) // the decoder reads object keys as strings
			if i, ok := at[k]; ok {
				vals[i] = v
				continue
			}
			at[k] = len(names)
			names = append(names, k)
			vals = append(vals, v)
		}
		if _, err := dec.Token(); err != nil { // }
			return nil, err
		}
		return value.Record(strs, names, vals)
	case string:
		return strs.String(t), nil
	case bool:
		return value.Bool(t), nil
	case json.Number:
		return jsonInt(t)
	}
	return nil, errors.New("null has no TLA+ value")
}

// jsonInt is the integer the number n writes (1e3 and 2.0 are integers),
// which must fit TLC's 32-bit Int.
func jsonInt(n json.Number) (value.Value, error) {
	if i, err := strconv.ParseInt(string(n), 10, 32); err == nil {
		return value.Int(i), nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return nil, fmt.Errorf("number %s is not an integer from -2^31 to 2^31-1", n)
	}
	return value.Int(int32(f)), nil
}
