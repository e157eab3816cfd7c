------------------------------ MODULE Firmware ------------------------------
(***************************************************************************)
(* Secure download of the legally relevant software (UC5) on one meter.   *)
(* Manifests name a version, a security version, whether they carry the   *)
(* legally relevant (LR) part, and who signed them.  The metrology        *)
(* authority co-signs every LR release with the manufacturer; an attacker *)
(* (or a compromised manufacturer key) can present any manifest with at   *)
(* most the manufacturer's signature.  The meter's fixed LR core checks   *)
(* the manifest, installs into the inactive A/B slot, self-tests, and     *)
(* either commits (raising the security-version floor) or rolls back;     *)
(* power can fail during an install.  Every attempt is in the logbook.    *)
(*                                                                         *)
(* Properties: S4 (only dual-signed LR software ever runs; the running    *)
(* security version never decreases and is never below the floor; every  *)
(* attempt is logged) and L2: its safety half (never bricked: a slot is  *)
(* always active) and, in FirmwareLive.cfg under weak fairness of the     *)
(* install steps, its liveness half (a started install always ends, in   *)
(* the new version or the old one).                                       *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    Versions,      \* e.g. 1..3
    SecVersions,   \* e.g. 1..2
    MaxAttempts,   \* download attempts in a run (the logbook's capacity)
    Mutant

Mutants == {"none", "manufacturer_only", "downgrade", "replaceable_verifier", "floor_before_selftest", "install_abandoned"}
ASSUME Mutant \in Mutants

Signers == {"manufacturer", "authority"}

\* @typeAlias: MANIFEST = [v: Int, sv: Int, lr: Bool, sigs: Set(Str), replacesVerifier: Bool];
\* Every manifest anyone can present.
Manifests == [v : Versions, sv : SecVersions, lr : BOOLEAN, sigs : SUBSET Signers, replacesVerifier : BOOLEAN]

\* The attacker holds no authority key.
\* @type: Set(MANIFEST);
Presentable == {m \in Manifests : "authority" \in m.sigs => m.sigs = Signers /\ ~m.replacesVerifier}

Factory == [v |-> 1, sv |-> 1, lr |-> TRUE, sigs |-> Signers, replacesVerifier |-> FALSE]
None == [v |-> 0, sv |-> 0, lr |-> FALSE, sigs |-> {}, replacesVerifier |-> FALSE]

VARIABLES
    \* @type: MANIFEST; @role: meter; @persist
    active,        \* the running software (its manifest)
    \* @type: MANIFEST; @role: meter; @persist
    pending,       \* the image in the inactive slot awaiting its self-test, or None
    \* @type: Int; @role: meter; @persist
    floor,         \* committed security-version floor
    \* @type: Bool; @role: meter; @persist
    verifierIntact, \* the manifest verifier is the fixed one
    \* @type: Seq(Str); @role: meter; @persist
    logbook,
    \* @type: Int; @role: history
    attempts,      \* history: download attempts
    \* @type: Set(MANIFEST); @role: history
    ran,           \* history: every manifest that was ever active
    \* @type: Int; @role: history
    maxSv          \* history: highest security version that ran

vars == <<active, pending, floor, verifierIntact, logbook, attempts, ran, maxSv>>

TypeOK ==
    /\ active \in Manifests
    /\ pending \in Manifests \cup {None}
    /\ floor \in SecVersions
    /\ verifierIntact \in BOOLEAN
    /\ attempts \in 0..MaxAttempts

Init ==
    /\ active = Factory
    /\ pending = None
    /\ floor = 1
    /\ verifierIntact = TRUE
    /\ logbook = <<>>
    /\ attempts = 0
    /\ ran = {Factory}
    /\ maxSv = 1

\* The fixed core's checks (protocol.VerifyManifest).  An LR release needs
\* both signatures; a release of the other part only the manufacturer's.
SignaturesOK(m) ==
    IF m.lr /\ Mutant # "manufacturer_only" THEN m.sigs = Signers ELSE "manufacturer" \in m.sigs

Acceptable(m) ==
    \/ Mutant = "replaceable_verifier" /\ ~verifierIntact   \* a replaced verifier accepts anything
    \/ /\ SignaturesOK(m)
       /\ m.v > active.v
       /\ Mutant = "downgrade" \/ m.sv >= floor

\* @role: meter @event: download(m)
Download(m) ==
    /\ pending = None
    /\ attempts < MaxAttempts  \* @bound
    /\ attempts' = attempts + 1
    /\ IF Acceptable(m)
          THEN /\ pending' = m
               /\ logbook' = Append(logbook, "accepted")
               /\ floor' = IF Mutant = "floor_before_selftest" THEN IF m.sv > floor THEN m.sv ELSE floor ELSE floor
          ELSE /\ logbook' = Append(logbook, "rejected")
               /\ UNCHANGED <<pending, floor>>
    /\ UNCHANGED <<active, verifierIntact, ran, maxSv>>

\* @role: meter @event: selftest_pass
\* Activate the new slot and commit: the floor rises only now.
SelfTestPass ==
    /\ pending # None
    /\ active' = [pending EXCEPT !.sigs = pending.sigs]
    /\ pending' = None
    /\ floor' = IF pending.sv > floor THEN pending.sv ELSE floor
    /\ verifierIntact' = IF Mutant = "replaceable_verifier" /\ pending.replacesVerifier THEN FALSE ELSE verifierIntact
    /\ logbook' = Append(logbook, "installed")
    /\ ran' = ran \cup {pending}
    /\ maxSv' = IF pending.sv > maxSv THEN pending.sv ELSE maxSv
    /\ UNCHANGED attempts

\* @role: meter @event: selftest_fail
SelfTestFail ==
    /\ pending # None
    /\ pending' = None
    /\ logbook' = Append(logbook, "rolled back")
    /\ UNCHANGED <<active, floor, verifierIntact, attempts, ran, maxSv>>

\* @role: meter @event: power_loss
\* Power fails during an install: the A/B switch was not made, the old slot
\* boots; the attempt is logged as rolled back at boot.
PowerLoss ==
    /\ pending # None
    /\ pending' = None
    /\ logbook' = Append(logbook, "rolled back")
    /\ UNCHANGED <<active, floor, verifierIntact, attempts, ran, maxSv>>

Next ==
    \/ \E m \in Presentable : Download(m)
    \/ SelfTestPass
    \/ SelfTestFail
    \/ PowerLoss

Spec == Init /\ [][Next]_vars

\* Fairness for L2's liveness half: once an image is pending, the meter's
\* fixed core keeps running its install steps (self-test, then commit or
\* rollback); power losses and downloads are not forced.  The mutant
\* install_abandoned drops that obligation (no watchdog resumes an install).
InstallStep == SelfTestPass \/ SelfTestFail
Fairness == WF_vars(Mutant # "install_abandoned" /\ InstallStep)

LiveSpec == Spec /\ Fairness

-----------------------------------------------------------------------------
\* S4a: every LR software that ever ran was signed by manufacturer and
\* authority.
S4_OnlyDualSignedRuns == \A m \in ran : m.lr => m.sigs = Signers

\* S4b: the running security version never decreases.
S4_SecurityVersionNeverDecreases == active.sv = maxSv

\* S4c: the running software is never below the committed floor (a failed
\* install neither locks the meter out nor leaves it unsafe).
S4_NotBelowFloor == active.sv >= floor

\* S4d: every attempt is in the logbook (one entry per attempt, one per
\* outcome of an accepted one).
S4_Logged == Len(logbook) >= attempts

\* L2 (safety half): a slot is always active.
L2_NeverBricked == active # None

\* L2 (liveness half): a started install always ends, in the new version
\* or rolled back to the old one (the running software does not change
\* while an image is pending).
L2_InstallEnds ==
    \A v, w \in Versions :
        (pending # None /\ pending.v = v /\ active.v = w) ~> (pending = None /\ active.v \in {v, w})

=============================================================================
