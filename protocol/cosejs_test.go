package protocol

import (
	"crypto/ecdh"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// coseJSVerify is a Node.js script: it verifies COSE_Sign1 messages (hex,
// argv[3:]; node -e has no script path in argv) with cose-js against a
// P-256 public key (x and y hex, argv[1] and argv[2]) and prints one line
// per message: "ok <payload hex>" or "refused <reason>".
const coseJSVerify = `
const cose = require('cose-js');
const [x, y, ...msgs] = process.argv.slice(1);
const key = {key: {x: Buffer.from(x, 'hex'), y: Buffer.from(y, 'hex')}};
(async () => {
  for (const m of msgs) {
    try { console.log('ok ' + (await cose.sign.verify(Buffer.from(m, 'hex'), key)).toString('hex')); }
    catch (e) { console.log('refused ' + String(e).split('\n')[0]); }
  }
})();
`

// requireCoseJS returns node and the node_modules directory holding
// cose-js, as make deps installs them. No node or npm on the machine: the
// test skips and says so. Node present but cose-js not installed: failure
// naming make deps.
func requireCoseJS(t *testing.T) (node, modules string) {
	t.Helper()
	node, errNode := exec.LookPath("node")
	_, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		msg := "cose-js interop not checked: node or npm is not installed"
		fmt.Fprintln(os.Stderr, msg)
		t.Skip(msg)
	}
	dir := os.Getenv("VERIMETER_NODE_DIR")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatalf("no VERIMETER_NODE_DIR and no home directory: %v", err)
		}
		dir = filepath.Join(home, ".cache", "verimeter", "node")
	}
	modules = filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "cose-js", "package.json")); err != nil {
		t.Fatalf("cose-js is not installed in %s (run make deps, which installs it with npm): %v", dir, err)
	}
	return node, modules
}

// TestCoseJSVerifiesWhatWeSign: a JavaScript COSE implementation verifies
// our signed reading, event and block header and returns their payloads,
// and refuses them once one byte of the payload is changed.
func TestCoseJSVerifiesWhatWeSign(t *testing.T) {
	node, modules := requireCoseJS(t)
	s, _, k, reading, block := coseSamples(t)
	ev, err := s.SignEvent(Event{Meter: s.Meter, Counter: 2, Time: 5, Code: EventMagneticField})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	point := pub.Bytes() // 0x04 || x || y
	if pub.Curve() != ecdh.P256() || len(point) != 65 {
		t.Fatalf("unexpected key: %d bytes", len(point))
	}
	x, y := hex.EncodeToString(point[1:33]), hex.EncodeToString(point[33:])
	names := []string{"reading", "event", "block"}
	msgs := [][]byte{reading, ev, block}
	contents := []string{contentReading, contentEvent, contentBlock}
	args := []string{"-e", coseJSVerify, x, y}
	for _, m := range msgs {
		bad := append([]byte(nil), m...)
		bad[len(bad)-64-3] ^= 1 // the payload's last byte
		args = append(args, hex.EncodeToString(m), hex.EncodeToString(bad))
	}
	cmd := exec.Command(node, args...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil || len(lines) != 2*len(msgs) {
		t.Fatalf("cose-js: %v: %s", err, out)
	}
	for i, name := range names {
		p, err := parseSign1(msgs[i], contents[i])
		if err != nil {
			t.Fatal(err)
		}
		if want := "ok " + hex.EncodeToString(p.content); lines[2*i] != want {
			t.Errorf("cose-js on our %s: %s, want %s", name, lines[2*i], want)
		}
		if !strings.HasPrefix(lines[2*i+1], "refused ") {
			t.Errorf("cose-js verified our %s with a changed payload: %s", name, lines[2*i+1])
		}
	}
}
