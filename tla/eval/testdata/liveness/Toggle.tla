---- MODULE Toggle ----
EXTENDS Naturals
VARIABLES x, y
vars == <<x, y>>
Init == x = 0 /\ y = 0
A == x' = 1 - x /\ y' = y
B(v) == x = 1 /\ y' = v /\ x' = x
Next == A \/ \E v \in {1} : B(v)
WFSpec == Init /\ [][Next]_vars /\ WF_vars(A) /\ \A v \in {1} : WF_vars(B(v))
SFSpec == Init /\ [][Next]_vars /\ WF_vars(A) /\ \A v \in {1} : SF_vars(B(v))
P == <>(y = 1)
Q == <>[](x = 0)
R == []<><<A>>_vars
====
