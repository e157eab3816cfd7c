---- MODULE MixCounter ----
EXTENDS Naturals
CONSTANT Max
VARIABLE c
Inc == c < Max /\ c' = c + 1
Keep == UNCHANGED c
====
