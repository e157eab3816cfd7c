---- MODULE Grid ----
\* A state space of exactly (N+1)^2 states with cheap states and about N
\* levels: the model of `make bigstate` (N = 10000: 100,020,001 states,
\* more than memory holds at the checker's former ~470 bytes a state).
EXTENDS Naturals
CONSTANT N
VARIABLES x, y
Init == x = 0 /\ y = 0
Next == \/ x < N /\ x' = x + 1 /\ y' = y
        \/ y < N /\ y' = y + 1 /\ x' = x
        \/ x' = (x * 7 + y) % N /\ y' = y
TypeOK == x \in 0..N /\ y \in 0..N
====
