---- MODULE Sym ----
EXTENDS Naturals, TLC
CONSTANTS P, V, NoV
VARIABLES owner, aval, n
Init == owner = [p \in P |-> 0] /\ aval = [p \in P |-> NoV] /\ n = 0
Next == \E p \in P, v \in V :
          /\ owner[p] < 2
          /\ owner' = [owner EXCEPT ![p] = owner[p] + 1]
          /\ aval' = [aval EXCEPT ![p] = v]
          /\ n' = (n + 1) % 3
Perms == Permutations(P) \cup Permutations(V)
PermsP == Permutations(P)
View == <<owner, n>>
====
