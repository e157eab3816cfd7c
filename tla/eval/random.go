package eval

import (
	"math/rand/v2"
	"sync"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// randomMu guards randomSrc, which all workers share.
var randomMu sync.Mutex

// randomSrc is the source of TLC's RandomElement: seeded, so a run with
// one worker is reproducible (TLC seeds its own from the run's seed; the
// elements chosen differ from TLC's, as they differ between TLC's runs).
var randomSrc = rand.New(rand.NewPCG(1, 2))

// tlcRandom compiles TLC's RandomElement(S): an element of S chosen at
// random at each evaluation, never evaluated once as a constant (it is
// impure, as TLC re-evaluates it: MisraReachability's RandomSucc). It
// returns nil for any other name.
func (s scope) tlcRandom(x *syntax.Ref, p syntax.RefPart) evalFn {
	if p.Name != "RandomElement" {
		return nil
	}
	pos := x.P
	if len(p.Args) != 1 {
		return errFn(evalErr(pos, "RandomElement expects 1 argument, got %d", len(p.Args)))
	}
	s.fl.impure = true
	arg := s.expr(p.Args[0])
	return func(r *rt) (value.Value, error) {
		v, err := arg(r)
		if err != nil {
			return nil, err
		}
		randomMu.Lock()
		e, err := value.RandomElement(v, randomSrc)
		randomMu.Unlock()
		return e, wrap(pos, err)
	}
}
