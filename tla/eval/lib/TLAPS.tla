------------------------------- MODULE TLAPS --------------------------------
(***************************************************************************)
(* The names of the TLA+ Proof System's module TLAPS, which specifications *)
(* extend for their proofs. They only direct the prover's back ends: to a  *)
(* model checker each is TRUE, and nothing here constrains a model. The    *)
(* proof system's own module states two of them as theorems; a model never *)
(* evaluates those.                                                        *)
(***************************************************************************)
SMT == TRUE
SMTT(X) == TRUE
CVC3 == TRUE
CVC3T(X) == TRUE
Yices == TRUE
YicesT(X) == TRUE
veriT == TRUE
veriTT(X) == TRUE
Z3 == TRUE
Z3T(X) == TRUE
Spass == TRUE
SpassT(X) == TRUE
SimpleArithmetic == TRUE
Zenon == TRUE
ZenonT(X) == TRUE
SlowZenon == TRUE
SlowerZenon == TRUE
VerySlowZenon == TRUE
SlowestZenon == TRUE
Isa == TRUE
IsaT(X) == TRUE
IsaM(X) == TRUE
IsaMT(X, Y) == TRUE
AllProvers == TRUE
AllProversT(X) == TRUE
AllSMT == TRUE
AllSMTT(X) == TRUE
AllIsa == TRUE
AllIsaT(X) == TRUE
SetExtensionality == TRUE
NoSetContainsEverything == TRUE
IsaWithSetExtensionality == TRUE
LS4 == TRUE
PTL == TRUE
PropositionalTemporalLogic == TRUE
ExpandENABLED == TRUE
ExpandCdot == TRUE
AutoUSE == TRUE
Lambdify == TRUE
ENABLEDaxioms == TRUE
ENABLEDrewrites == TRUE
ENABLEDrules == TRUE
LevelComparison == TRUE
Trivial == TRUE
=============================================================================
