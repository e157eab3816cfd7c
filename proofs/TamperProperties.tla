--------------------------- MODULE TamperProperties ---------------------------
(***************************************************************************)
(* The properties of DESIGN.md that tamper events (UC9, spec/Tamper.tla)  *)
(* cover, one definition each.  A tamper event is signed data of the      *)
(* meter like a reading, so the reading properties apply to it: S1        *)
(* authenticity, S2 no duplicate, S3 no loss (invariants on Tamper.cfg),  *)
(* and L1 eventual storage (temporal, on TamperLive.cfg under weak        *)
(* fairness).  The definitions carry the suffix _Tamper: proofs/ defines  *)
(* S1..S9, L1, L2 themselves once each, on the models named in DESIGN.md.  *)
(***************************************************************************)
EXTENDS Tamper

\* S1 authenticity: every stored event is one the meter detected and
\* signed, unaltered.
S1_Tamper == S1_EventAuthentic

\* S2 no duplicate: each event raises at most one alarm at the head-end.
S2_Tamper == S2_AlarmOnce

\* S3 no loss: a detected event is in the meter's persisted log, in the
\* gateway's queue or stored (the meter's volatile memory is empty but in
\* the mutant).
S3_Tamper == S3_EventNoLoss

\* L1 (S3's "eventually stored"): every detected event is eventually
\* stored, under weak fairness of persisting, sending, ingesting,
\* acknowledging and WAN recovery.
L1_Tamper == L1_EventEventuallyStored

=============================================================================
