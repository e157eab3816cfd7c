---- MODULE Counter ----
EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == x < 3 /\ x' = x + 1
Spec == Init /\ [][Next]_x
FairSpec == Spec /\ WF_x(Next)
Reach == <>(x = 3)
Stay == <>[](x = 3)
Inf == []<>(x = 3)
Lead == (x = 1) ~> (x = 3)
Inc == [][x' = x + 1]_x
Dec == [][x' = x - 1]_x
Pos == [](x >= 0)
Bad == [](x < 3)
Never == []<>(x = 5)
Start == x = 0
Imp == (x = 0) => <>(x = 2)
Stable == [](x = 3 => [](x = 3))
====
