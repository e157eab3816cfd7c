package syntax

import "fmt"

// Pos is a position in a source file; every node carries one so that
// errors and unsupported constructs can be reported as file:line:col.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Error is a syntax error; its text reads file:line:col: message so that
// editors can jump to it.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Expr is a TLA+ expression.
type Expr interface{ At() Pos }

// Node holds the position shared by every expression node.
type Node struct{ P Pos }

// At returns the position of the node's first token.
func (n Node) At() Pos { return n.P }

// Num is an integer literal (decimal, or \b \o \h notation as written).
type Num struct {
	Node
	Text string
}

// Str is a string literal, unescaped.
type Str struct {
	Node
	Val string
}

// RefPart is one step of a reference: a name with optional arguments.
// A positional step such as the 1 of Inv!1 has the digits as its Name.
type RefPart struct {
	Name string
	Args []Expr
}

// Ref names an operator, constant, variable or bound identifier, possibly
// applied to arguments and possibly through instances (M!Op(a)!B).
type Ref struct {
	Node
	Parts []RefPart
}

// OpApp applies a built-in prefix, infix or postfix operator, named by its
// symbol ("\\in", "+", "'", "~", "-." for negation, "SUBSET", ...).
type OpApp struct {
	Node
	Op   string
	Args []Expr
}

// Junction is a conjunction or disjunction list (Op is "/\\" or "\\/"),
// either bulleted (TLA+ book 15.2.2) or written infix.
type Junction struct {
	Node
	Op    string
	Items []Expr
	// Ends[i] is the position of Items[i]'s last character (zero when not
	// parsed from text).
	Ends   []Pos
	bullet bool
	paren  bool
}

// If is IF c THEN a ELSE b.
type If struct {
	Node
	Cond, Then, Else Expr
}

// CaseArm is one p -> e of a CASE.
type CaseArm struct{ Cond, Val Expr }

// Case is CASE p1 -> e1 [] ... [] OTHER -> e; Other is nil without OTHER.
type Case struct {
	Node
	Arms  []CaseArm
	Other Expr
}

// Let is LET defs IN body.
type Let struct {
	Node
	Defs      []*Def
	Recursive []string // names declared RECURSIVE in this LET
	Body      Expr
}

// Bound is one bound of a quantifier or constructor: x, y \in S, or
// <<x, y>> \in S (Tuple set), or unbounded x (Set nil).
type Bound struct {
	Names []string
	Tuple bool
	Set   Expr
}

// Quant is \A, \E, CHOOSE, \AA or \EE over its bounds.
type Quant struct {
	Node
	Kind   string
	Bounds []Bound
	Body   Expr
}

// SetEnum is {a, b, c}.
type SetEnum struct {
	Node
	Elems []Expr
}

// SetFilter is {x \in S : P}.
type SetFilter struct {
	Node
	Bound Bound
	Pred  Expr
}

// SetMap is {e : x \in S, y \in T}.
type SetMap struct {
	Node
	Elem   Expr
	Bounds []Bound
}

// Tuple is <<a, b>>.
type Tuple struct {
	Node
	Elems []Expr
}

// FuncCons is [x \in S |-> e].
type FuncCons struct {
	Node
	Bounds []Bound
	Body   Expr
}

// FuncSet is [S -> T].
type FuncSet struct {
	Node
	Dom, Rng Expr
}

// Record is [a |-> e, b |-> f].
type Record struct {
	Node
	Fields []string
	Vals   []Expr
}

// RecordSet is [a : S, b : T].
type RecordSet struct {
	Node
	Fields []string
	Sets   []Expr
}

// ExceptKey is one step of an EXCEPT path: .field or [a, b].
type ExceptKey struct {
	Field string // set for .field
	Index []Expr // set for [a] or [a, b]
}

// ExceptUpdate is one !path = value of an EXCEPT.
type ExceptUpdate struct {
	Path []ExceptKey
	Val  Expr
}

// Except is [f EXCEPT ![a] = e, !.b.c = @ + 1].
type Except struct {
	Node
	Fn      Expr
	Updates []ExceptUpdate
}

// AtSign is @ inside an EXCEPT value: the old value at the path.
type AtSign struct{ Node }

// Apply is function application f[a] or f[a, b].
type Apply struct {
	Node
	Fn   Expr
	Args []Expr
}

// Dot is record field selection r.field.
type Dot struct {
	Node
	Rec   Expr
	Field string
}

// Times is the Cartesian product S \X T \X U (n-ary, not nested).
type Times struct {
	Node
	Sets  []Expr
	paren bool
}

// BoxAction is [A]_v, or <<A>>_v when Angle is set.
type BoxAction struct {
	Node
	Action, Sub Expr
	Angle       bool
}

// Fairness is WF_v(A) or SF_v(A).
type Fairness struct {
	Node
	Kind        string // "WF" or "SF"
	Sub, Action Expr
}

// Lambda is LAMBDA x, y : e (an operator argument).
type Lambda struct {
	Node
	Params []string
	Body   Expr
}

// OpArg is a built-in operator passed as an argument, such as + in F(+).
type OpArg struct {
	Node
	Op string
}

// Param is a formal parameter of an operator definition; Arity > 0 for an
// operator parameter such as F(_, _). Infix parameters (_\prec_) have
// Arity 2.
type Param struct {
	Name  string
	Arity int
}

// Def is an operator or function definition, or M == INSTANCE ...
type Def struct {
	Pos       Pos
	Name      string
	Params    []Param
	FnBounds  []Bound // for f[x \in S] == e
	Body      Expr
	End       Pos       // the position of Body's last character (zero when not parsed from text)
	Instance  *Instance // for M(p) == INSTANCE N WITH ...
	Local     bool
	Recursive bool // declared in a RECURSIVE statement
}

// Subst is one c <- e of an INSTANCE ... WITH.
type Subst struct {
	Pos  Pos
	Name string
	Expr Expr
}

// Instance is INSTANCE M WITH substitutions.
type Instance struct {
	Pos    Pos
	Module string
	Subst  []Subst
	Local  bool
}

// Decl declares constants or variables; Arity > 0 for an operator constant.
type Decl struct {
	Pos   Pos
	Name  string
	Arity int
}

// Assume is ASSUME e, or ASSUME Name == e.
type Assume struct {
	Pos  Pos
	Name string
	Expr Expr
	// Def is, for a named assumption, the definition Name == e: the name
	// stands for the assumed formula wherever it is used as an expression.
	Def *Def
}

// Module is one parsed module. Units keeps every definition, instance and
// assumption in source order (evaluation needs it); Constants, Variables
// and Submodules are listed separately.
type Module struct {
	Pos        Pos
	Name       string
	Extends    []string
	Constants  []Decl
	Variables  []Decl
	Units      []any // *Def, *Instance, *Assume
	Submodules []*Module
	// Following lists the modules after this one in its file, outside it
	// (the first module of a file only): SANY reads them all, and the
	// first may EXTEND or INSTANCE one that follows.
	Following []*Module
	// Recursive lists the names declared in RECURSIVE statements.
	Recursive []string
	// Ignored counts theorems, lemmas and proof blocks that were skipped.
	Ignored int
	// Skipped lists the line ranges [first, last] of what was skipped.
	Skipped [][2]int
}

// Label is a labelled subexpression lbl:: e (TLA+2); the label names the
// subexpression for positional references such as Inv!P0.
type Label struct {
	Node
	Name string
	Body Expr
}
