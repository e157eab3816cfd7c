package pgtest

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Start returns the connection string of a fresh, empty PostgreSQL
// database on 127.0.0.1. In a package whose TestMain is Main, every test
// gets its own database on one server the package's tests share (an
// initdb and a server start are seconds each); elsewhere each call starts
// a server of its own, stopped when the test ends. PostgreSQL comes from
// Debian: make deps installs it; the test never does. A machine without
// it is a test failure naming the fix, not a skip.
func Start(t testing.TB) string {
	t.Helper()
	if !shared.on {
		s, err := startServer()
		if s != nil {
			t.Cleanup(s.stop)
		}
		if err != nil {
			t.Fatal(err)
		}
		return s.dsn("postgres")
	}
	shared.once.Do(func() { shared.srv, shared.err = startServer() })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	shared.Lock()
	shared.n++
	name := fmt.Sprintf("test%d", shared.n)
	shared.Unlock()
	db, err := sql.Open("pgx", shared.srv.dsn("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	return shared.srv.dsn(name)
}

// Main runs a package's tests (call it from TestMain) with one PostgreSQL
// server for all of them, started by the first Start and stopped after the
// last test: each test still gets a database of its own.
func Main(m *testing.M) {
	shared.on = true
	code := m.Run()
	if shared.srv != nil {
		shared.srv.stop()
	}
	os.Exit(code)
}

// shared is the server of a package whose TestMain is Main.
var shared struct {
	sync.Mutex
	on   bool
	once sync.Once
	srv  *server
	err  error
	n    int // databases created
}

// server is a PostgreSQL server in a temporary directory.
type server struct {
	dir, bin string
	port     int
	run      func(args ...string) *exec.Cmd
}

func (s *server) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=10", s.port, db)
}

// stop stops the server at once (its data is thrown away) and removes its
// directory.
func (s *server) stop() {
	if s.port != 0 {
		s.run(filepath.Join(s.bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "stop").Run()
	}
	os.RemoveAll(s.dir)
}

// startServer runs initdb and starts the server; on an error after the
// directory exists it returns the server too, for its stop.
func startServer() (*server, error) {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		return nil, errors.New("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run make deps, which installs it with apt-get")
	}
	s := &server{bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "vmpg")
	if err != nil {
		return nil, err
	}
	s.dir = dir
	// PostgreSQL refuses to run as root: run it as the postgres user.
	s.run = func(args ...string) *exec.Cmd { return exec.Command(args[0], args[1:]...) }
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return s, fmt.Errorf("running as root and there is no postgres user: %w", err)
		}
		if out, err := exec.Command("chown", u.Username, dir).CombinedOutput(); err != nil {
			return s, fmt.Errorf("chown: %w %s", err, out)
		}
		s.run = func(args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := s.run(filepath.Join(s.bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync").CombinedOutput(); err != nil {
		return s, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return s, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=300", port, dir)
	if out, err := s.run(filepath.Join(s.bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start").CombinedOutput(); err != nil {
		return s, fmt.Errorf("pg_ctl start: %w\n%s", err, out)
	}
	s.port = port
	return s, nil
}
