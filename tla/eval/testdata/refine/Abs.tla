---- MODULE Abs ----
EXTENDS Naturals
VARIABLE y
Init == y = 0
Next == y < 2 /\ y' = y + 1
Spec == Init /\ [][Next]_y /\ WF_y(Next)
====
