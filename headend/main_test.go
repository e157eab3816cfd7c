package headend

import (
	"testing"

	"github.com/verimeter/verimeter/internal/pgtest"
)

// TestMain gives the package's PostgreSQL tests one server, a database
// each (internal/pgtest).
func TestMain(m *testing.M) { pgtest.Main(m) }
