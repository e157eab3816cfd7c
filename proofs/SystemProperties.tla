--------------------------- MODULE SystemProperties ---------------------------
(***************************************************************************)
(* The properties of DESIGN.md that the composed model (spec/System.tla)  *)
(* covers, one definition each.  Each is an invariant: a predicate every  *)
(* reachable state satisfies; the conjuncts are the spec's named formulas *)
(* (proofs/README.md argues what each means).                             *)
(***************************************************************************)
EXTENDS System

\* S1 authenticity: every stored reading carries a signature of that
\* meter's key.
S1 == S1_Authentic

\* S3 no loss: a reading taken is at the meter, in a gateway's queue or
\* stored (across WAN outages, gateway restarts and the operator change).
S3 == S3_NoLoss

\* S5 access: a participant is served only readings of its contract, only
\* while its certificate is valid.
S5 == S5_ContractOnly

\* S6 commands: only the operator the meter trusts makes a command run, only
\* commands it issued, each at most once; the trust list that names that
\* operator is the newest the meter installed and one the trust-list key
\* signed.
S6 == S6_OnlyTrustedOperator /\ S6_OnlyIssued /\ S6_AtMostOnce /\ S6_TrustListNewest /\ S6_TrustListAuthentic

\* S8 revocation without losing evidence.
S8 == S8_RevocationStopsNewData /\ S8_EvidenceKept

\* S9 command order: each operator's commands run in the order issued.
S9 == S9_InOrder

\* Tamper events (UC9) in the composed system, under the reading properties
\* as in TamperProperties: every stored event is one a meter detected and
\* signed (S1), each event raises at most one alarm whatever is uploaded
\* again (S2), and a detected event is at its meter, in a gateway's queue or
\* stored across restarts, outages, drops and the operator change (S3).
\* Stated over the history (detected, raised), not the head-end's check.
S1_Events == S1_EventAuthentic
S2_Events == S2_AlarmOnce
S3_Events == S3_EventNoLoss

=============================================================================
