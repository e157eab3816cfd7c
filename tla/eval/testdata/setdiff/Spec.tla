---- MODULE Spec ----
EXTENDS Naturals, FiniteSets
CONSTANT Proc
VARIABLES s, owner, log
Init == s = {} /\ owner = (CHOOSE p \in Proc : TRUE) /\ log = <<>>
\* S \ {e}: a constant set without the bound name, and a state's set
\* without the owner; both change with the state the action starts in.
Pass(p) == \E q \in Proc \ {p} : owner = p /\ owner' = q /\ UNCHANGED <<s, log>>
Grow == \E x \in (Proc \ s) \ {owner} : s' = s \cup {x} /\ UNCHANGED <<owner, log>>
Drop == \E x \in s \ {owner} : s' = s \ {x} /\ log' = <<x>> /\ UNCHANGED owner
Next == \/ \E p \in Proc : Pass(p)
        \/ Grow
        \/ Drop
Inv == owner \notin (s \ {owner})
====
