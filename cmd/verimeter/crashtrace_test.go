//go:build !device

package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/verimeter/verimeter/spec"
)

// crashFirmwareCfg is spec/trace/Firmware.cfg with the bounds of a crash
// campaign: every version it offered (campaign c offers 4+c, security
// version 2+(4+c)/16), beside None's 0 and the factory's. The demo's
// bounds (versions up to 9) hold five installs; a campaign offers one
// version a round, so its Firmware logs need the model to draw Offer's
// manifest from what it offered. The model only grows by the values the
// run used: every other bound and the checked invariants stay the demo's.
func crashFirmwareCfg(campaigns uint32) (string, error) {
	b, err := fs.ReadFile(spec.FS, "trace/Firmware.cfg")
	if err != nil {
		return "", err
	}
	vs, svs := []uint32{0, 4}, []uint32{0, 2}
	for c := uint32(1); c <= campaigns; c++ {
		v := 4 + c
		vs = append(vs, v)
		if sv := 2 + v/16; !slices.Contains(svs, sv) {
			svs = append(svs, sv)
		}
	}
	set := func(xs []uint32) string {
		parts := make([]string, len(xs))
		for i, x := range xs {
			parts[i] = fmt.Sprint(x)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	text := string(b)
	for name, xs := range map[string][]uint32{"Versions": vs, "SecVersions": svs} {
		re := regexp.MustCompile(`(?m)^(\s*` + name + `\s*=\s*)\{[^}]*\}`)
		if !re.MatchString(text) {
			return "", fmt.Errorf("trace/Firmware.cfg has no %s = {...}", name)
		}
		text = re.ReplaceAllString(text, "${1}"+set(xs))
	}
	return text, nil
}

// validateCrashTraces judges the logs of every process of a crash
// campaign (the killed and restarted ones included) against every module
// of specTraceGroups, with the Firmware bounds of its campaigns.
func validateCrashTraces(dir string, campaigns uint32) (traceCheckResults, error) {
	fw, err := crashFirmwareCfg(campaigns)
	if err != nil {
		return nil, err
	}
	return validateSpecTracesWith(dir, map[string]string{"trace/Firmware.cfg": fw})
}

// tamperCrashTraces copies the campaign's logs under dir to a new
// directory with one step of each module edited: in the first meter's
// log of the module, the line halfway through gets its state's first
// number raised by 1000 (a seal count, a reading count, a slot's version,
// an event number the meter never reached). It returns the copy and the
// modules edited.
func tamperCrashTraces(dir, out string) ([]string, error) {
	if err := os.CopyFS(out, os.DirFS(dir)); err != nil {
		return nil, err
	}
	re := regexp.MustCompile(`"state":\{.*?":(\d+)`)
	var edited []string
	for _, g := range specTraceGroups {
		groups, err := filepath.Glob(filepath.Join(out, g.dir, "*", "meter.ndjson"))
		if err != nil || len(groups) == 0 {
			continue
		}
		sort.Strings(groups)
		b, err := os.ReadFile(groups[0])
		if err != nil {
			return nil, err
		}
		lines := strings.SplitAfter(string(b), "\n")
		k := (len(lines) - 1) / 2
		m := re.FindStringSubmatchIndex(lines[k])
		if m == nil {
			continue
		}
		n, err := strconv.Atoi(lines[k][m[2]:m[3]])
		if err != nil {
			return nil, err
		}
		lines[k] = lines[k][:m[2]] + strconv.Itoa(n+1000) + lines[k][m[3]:]
		if err := os.WriteFile(groups[0], []byte(strings.Join(lines, "")), 0o600); err != nil {
			return nil, err
		}
		edited = append(edited, strings.TrimSuffix(g.module, ".tla"))
	}
	return edited, nil
}
