---- MODULE Conc ----
EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == x < 5 /\ x' = x + 1
Spec == Init /\ [][Next]_x /\ WF_x(Next)
Lazy == Init /\ [][Next]_x
A == INSTANCE Abs WITH y <- x \div 2
ASpec == A!Spec
B == INSTANCE Abs WITH y <- x
BSpec == B!Spec
Half(k) == INSTANCE Abs WITH y <- x \div k
HSpec == Half(2)!Spec
====
