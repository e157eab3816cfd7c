-------------------------- MODULE FirmwareProperties --------------------------
(***************************************************************************)
(* The properties of DESIGN.md that the secure download (spec/Firmware.tla)*)
(* covers, one definition each: S4 an invariant, L2 a temporal formula.  *)
(***************************************************************************)
EXTENDS Firmware

\* S4 firmware: only dual-signed LR software runs, the running security
\* version never decreases and is never below the committed floor, every
\* attempt is in the logbook.
S4 == /\ S4_OnlyDualSignedRuns
      /\ S4_SecurityVersionNeverDecreases
      /\ S4_NotBelowFloor
      /\ S4_Logged

\* L2 never bricked, on one meter: a slot is always active (safety half),
\* and a started install always ends, in the new version or rolled back to
\* the old one (liveness half, under weak fairness of the install steps;
\* checked on FirmwareLive.cfg).
L2 == []L2_NeverBricked /\ L2_InstallEnds

=============================================================================
