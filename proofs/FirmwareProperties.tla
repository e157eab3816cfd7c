-------------------------- MODULE FirmwareProperties --------------------------
(***************************************************************************)
(* The properties of DESIGN.md that the secure download (spec/Firmware.tla)*)
(* covers, one definition each, as invariants.                            *)
(***************************************************************************)
EXTENDS Firmware

\* S4 firmware: only dual-signed LR software runs, the running security
\* version never decreases and is never below the committed floor, every
\* attempt is in the logbook.
S4 == /\ S4_OnlyDualSignedRuns
      /\ S4_SecurityVersionNeverDecreases
      /\ S4_NotBelowFloor
      /\ S4_Logged

\* L2 never bricked, its safety half: a slot is always active (the
\* campaign's "eventually in the new or the old version" needs the campaign
\* model and liveness checking).
L2 == L2_NeverBricked

=============================================================================
