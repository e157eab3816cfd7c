-------------------------- MODULE FirmwareProperties --------------------------
(***************************************************************************)
(* The properties of DESIGN.md that the secure download (spec/Firmware.tla)*)
(* covers, one definition each: S4 an invariant, L2 a temporal formula.  *)
(***************************************************************************)
EXTENDS Firmware

\* S4 firmware: only dual-signed LR software runs (on trial too), the
\* running security version never falls below the highest committed one
\* nor below the committed floor, every attempt that ended is in the
\* logbook with its version and its real outcome.
S4 == /\ S4_OnlyDualSignedRuns
      /\ S4_SecurityVersionNeverDecreases
      /\ S4_NotBelowFloor
      /\ S4_Logged

\* L2 never bricked, on one meter: the active slot's file holds the image
\* its record names, outside an install only self-tested software runs and
\* during one the old software is intact to fall back to (safety half);
\* a started install ends in tested software at or above the floor
\* (liveness half, under weak fairness of the core's steps; checked on
\* FirmwareLive.cfg).
L2 == []L2_NeverBricked /\ L2_InstallEnds

=============================================================================
