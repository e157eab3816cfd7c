---- MODULE MixStep ----
EXTENDS Naturals
CONSTANT K
VARIABLE v
Go == v < K /\ v' = v + 1
====
