---- MODULE Mix ----
\* Constructs ported from the tree-walker to the compiled evaluator:
\* instances in Next (named, parameterized, unnamed), assignment through
\* an operator argument, UNCHANGED through a substitution, Def!n,
\* SelectSeq, ENABLED, UNION {..} and r \in [f : S].
EXTENDS Naturals, Sequences
INSTANCE MixHelpers
VARIABLES x, y, log
vars == <<x, y, log>>
C == INSTANCE MixCounter WITH c <- x, Max <- 3
P(k) == INSTANCE MixStep WITH v <- y, K <- k
Set(q, val) == q' = val
Init == x = 0 /\ y = 0 /\ log = <<>>
Next == \/ C!Inc /\ UNCHANGED <<y>> /\ log' = Append(log, x)
        \/ P(2)!Go /\ C!Keep /\ UNCHANGED log
        \/ y > 1 /\ Set(y, 0) /\ UNCHANGED <<x, log>>
Spec == Init /\ [][Next]_vars
Evens(s) == SelectSeq(s, LAMBDA e : e % 2 = 0)
IsOdd(e) == e % 2 = 1
Odds(s) == SelectSeq(s, IsOdd)
TypeOK == /\ x \in 0..3
          /\ y \in UNION {0..2, {5}}
          /\ [a |-> x, b |-> y] \in [a : Nat, b : 0..4]
Split == Len(Evens(log)) + Len(Odds(log)) = Len(log)
EnInv == (x < 3) <=> ENABLED C!Inc
DoubleOK == Double(x) = x + x
Parts == /\ x >= 0
         /\ y >= 0
PartInv == Parts!2
AlwaysEnabled == ENABLED C!Inc
====
