------------------------------ MODULE Firmware ------------------------------
(***************************************************************************)
(* Secure download of the legally relevant software (UC5) on one meter,   *)
(* as the durable steps the meter's fixed core takes (meter/core.go).     *)
(* Manifests name a version, a security version, whether they carry the   *)
(* legally relevant (LR) part, and whose signatures verified on them.     *)
(* The metrology authority co-signs every LR release with the             *)
(* manufacturer; an attacker (or a compromised manufacturer key) can      *)
(* present any manifest with at most the manufacturer's signature, and    *)
(* any image (its digest checked, or its transfer cut short).             *)
(*                                                                         *)
(* The meter has two slots (A/B), each a journal record (recI: what the   *)
(* slot holds, None while it is being rewritten) and a file (imgI: the    *)
(* image actually in it).  An accepted install is six durable writes, in  *)
(* this order: the attempt recorded with its target slot emptied; the     *)
(* image file written; the slot recorded and activated on trial; the      *)
(* outcome's logbook entry; the floor raised; the attempt cleared.  Power *)
(* can fail (or a write can fail) between any two of them (Fault); the    *)
(* core then settles the attempt (Settle) from what is durable: an        *)
(* attempt whose "installed" entry is in the logbook is committed,        *)
(* any other is logged as rolled back (once) and the old slot is made     *)
(* active again.  pc and fcause are the core's volatile position.         *)
(*                                                                         *)
(* Properties: S4 (only dual-signed LR software ever runs; the running    *)
(* security version never falls below what was committed nor below the   *)
(* floor; every attempt that ended is in the logbook with its real        *)
(* outcome) and L2: its safety half (never bricked: the active slot's     *)
(* file holds what its record names, outside an install only software    *)
(* that passed its self-test runs, and during one the old software is     *)
(* intact to fall back to) and, in FirmwareLive.cfg under weak fairness   *)
(* of the core's steps, its liveness half (a started install ends, in     *)
(* tested software not below the floor).                                  *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    Versions,      \* e.g. 1..3
    SecVersions,   \* e.g. 1..2
    FactoryV,      \* the factory image's version
    FactorySv,     \* and its security version
    LogCap,        \* the logbook's capacity (a protocol limit: no entry is ever overwritten)
    MaxFaults,     \* power losses and failed writes in a run
    Mutant

Mutants == {"none", "manufacturer_only", "downgrade", "replaceable_verifier", "floor_before_selftest",
            "rollback_not_logged", "no_trial_boot", "write_active_slot", "activate_before_write",
            "settle_ignores_installed"}
ASSUME Mutant \in Mutants

Signers == {"manufacturer", "authority"}

\* The outcome of the image's checks, computed before the step: its size
\* and digest match the manifest, they do not, or the image did not arrive
\* whole before its activation was asked for.
Checks == {"ok", "digest mismatch", "transfer aborted"}

\* A failure that interrupts an install: power lost (settled at boot) or a
\* durable write that failed (settled at once).
Faults == {"power lost", "slot write failed"}

\* @typeAlias: MANIFEST = [v: Int, sv: Int, lr: Bool, sigs: Set(Str), replacesVerifier: Bool];
\* @typeAlias: ENTRY = [n: Int, v: Int, outcome: Str, cause: Str];
\* @typeAlias: DONE = [n: Int, v: Int, outcome: Str];
\* Every manifest anyone can present.
Manifests == [v : Versions, sv : SecVersions, lr : BOOLEAN, sigs : SUBSET Signers, replacesVerifier : BOOLEAN]

\* The attacker holds no authority key.
\* @type: Set(MANIFEST);
Presentable == {m \in Manifests : "authority" \in m.sigs => m.sigs = Signers /\ ~m.replacesVerifier}

Factory == [v |-> FactoryV, sv |-> FactorySv, lr |-> TRUE, sigs |-> Signers, replacesVerifier |-> FALSE]
None == [v |-> 0, sv |-> 0, lr |-> FALSE, sigs |-> {}, replacesVerifier |-> FALSE]

VARIABLES
    \* @type: MANIFEST; @role: meter; @persist
    rec0,          \* the journal's record of slot A (None: empty)
    \* @type: MANIFEST; @role: meter; @persist
    rec1,          \* of slot B
    \* @type: MANIFEST; @role: meter; @persist
    img0,          \* the image in slot A's file (None: no file)
    \* @type: MANIFEST; @role: meter; @persist
    img1,          \* in slot B's file
    \* @type: Int; @role: meter; @persist
    act,           \* the active slot, 0 or 1
    \* @type: MANIFEST; @role: meter; @persist
    trial,         \* the install in progress (None: none)
    \* @type: Int; @role: meter; @persist
    tslot,         \* its target slot
    \* @type: Int; @role: meter; @persist
    tseq,          \* the logbook number its outcome entry gets
    \* @type: Int; @role: meter; @persist
    floor,         \* committed security-version floor
    \* @type: Bool; @role: meter; @persist
    verifierIntact, \* the manifest verifier is the fixed one
    \* @type: Int; @role: meter; @persist
    entries,       \* logbook entries written
    \* @type: Set(ENTRY); @role: meter; @persist; @store
    logbook,       \* the logbook (the meter's journal holds it)
    \* @type: Str; @role: meter
    pc,            \* the core's position in an install (volatile)
    \* @type: Str; @role: meter
    fcause,        \* the fault being settled (volatile)
    \* @type: Set(MANIFEST); @role: history
    ran,           \* history: every manifest that ever ran, on trial too
    \* @type: Set(MANIFEST); @role: history
    tested,        \* history: the factory image and every image whose self-test passed
    \* @type: Int; @role: history
    maxSv,         \* history: highest security version committed
    \* @type: Set(DONE); @role: history
    done,          \* history: every attempt that ended, with what really happened
    \* @type: Int; @role: history
    faults         \* history: faults so far

vars == <<rec0, rec1, img0, img1, act, trial, tslot, tseq, floor, verifierIntact, entries, logbook,
          pc, fcause, ran, tested, maxSv, done, faults>>

Rec(i) == IF i = 0 THEN rec0 ELSE rec1
Img(i) == IF i = 0 THEN img0 ELSE img1
Running == Rec(act)
Max(a, b) == IF a > b THEN a ELSE b

TypeOK ==
    /\ {rec0, rec1, img0, img1, trial} \subseteq Manifests \cup {None}
    /\ act \in {0, 1} /\ tslot \in {0, 1}
    /\ floor \in SecVersions
    /\ verifierIntact \in BOOLEAN
    /\ entries \in 0..LogCap /\ tseq \in 0..LogCap
    /\ pc \in {"idle", "admitted", "written", "activated", "trial", "commit", "clear", "rollback", "settle"}
    /\ fcause \in Faults \cup {""}

Init ==
    /\ rec0 = Factory /\ img0 = Factory
    /\ rec1 = None /\ img1 = None
    /\ act = 0
    /\ trial = None /\ tslot = 1 /\ tseq = 0
    /\ floor = FactorySv
    /\ verifierIntact = TRUE
    /\ entries = 0
    /\ logbook = {}
    /\ pc = "idle"
    /\ fcause = ""
    /\ ran = {Factory}
    /\ tested = {Factory}
    /\ maxSv = FactorySv
    /\ done = {}
    /\ faults = 0

\* The fixed core's checks (protocol.VerifyManifest).  An LR release needs
\* both signatures; a release of the other part only the manufacturer's.
SignaturesOK(m) ==
    IF m.lr /\ Mutant # "manufacturer_only" THEN m.sigs = Signers ELSE "manufacturer" \in m.sigs

Acceptable(m) ==
    \/ Mutant = "replaceable_verifier" /\ ~verifierIntact   \* a replaced verifier accepts anything
    \/ /\ SignaturesOK(m)
       /\ m.v > Running.v
       /\ Mutant = "downgrade" \/ m.sv >= floor

RefusedBecause(m, chk) ==
    IF chk = "transfer aborted" THEN chk ELSE IF Acceptable(m) THEN chk ELSE "manifest refused"

\* The attempt's "installed" entry.
Installed == [n |-> tseq, v |-> trial.v, outcome |-> "installed", cause |-> ""]

\* @role: meter @event: offer(m, chk)
\* A download attempt: refused with its logbook entry, or admitted (durable
\* write 1: the attempt, its target slot's record emptied).  With the
\* logbook full the attempt is refused with nothing written.
Offer(m, chk) ==
    /\ pc = "idle"
    /\ trial = None
    /\ entries < LogCap
    /\ IF chk = "ok" /\ Acceptable(m)
          THEN /\ trial' = m
               /\ tseq' = entries + 1
               /\ tslot' = IF Mutant = "write_active_slot" THEN act ELSE 1 - act
               /\ rec0' = IF act = 1 /\ Mutant # "write_active_slot" THEN None ELSE rec0
               /\ rec1' = IF act = 0 /\ Mutant # "write_active_slot" THEN None ELSE rec1
               /\ floor' = IF Mutant = "floor_before_selftest" THEN Max(m.sv, floor) ELSE floor
               /\ pc' = "admitted"
               /\ UNCHANGED <<entries, logbook, done>>
          ELSE /\ logbook' = logbook \cup {[n |-> entries + 1, v |-> m.v, outcome |-> "rejected", cause |-> RefusedBecause(m, chk)]}
               /\ entries' = entries + 1
               /\ done' = done \cup {[n |-> entries + 1, v |-> m.v, outcome |-> "rejected"]}
               /\ UNCHANGED <<trial, tseq, tslot, rec0, rec1, floor, pc>>
    /\ UNCHANGED <<img0, img1, act, verifierIntact, fcause, ran, tested, maxSv, faults>>

\* @role: meter @event: write
\* Durable write 2: the image in the target slot's file.
WriteSlot ==
    /\ pc = IF Mutant = "activate_before_write" THEN "activated" ELSE "admitted"
    /\ img0' = IF tslot = 0 THEN trial ELSE img0
    /\ img1' = IF tslot = 1 THEN trial ELSE img1
    /\ pc' = IF Mutant = "activate_before_write" THEN "trial" ELSE "written"
    /\ UNCHANGED <<rec0, rec1, act, trial, tslot, tseq, floor, verifierIntact, entries, logbook, fcause, ran, tested, maxSv, done, faults>>

\* @role: meter @event: activate
\* Durable write 3: the slot recorded and activated on trial; the old slot
\* stays what the meter falls back to.
Activate ==
    /\ pc = IF Mutant = "activate_before_write" THEN "admitted" ELSE "written"
    /\ rec0' = IF tslot = 0 THEN trial ELSE rec0
    /\ rec1' = IF tslot = 1 THEN trial ELSE rec1
    /\ act' = tslot
    /\ verifierIntact' = IF Mutant = "replaceable_verifier" /\ trial.replacesVerifier THEN FALSE ELSE verifierIntact
    /\ pc' = IF Mutant = "activate_before_write" THEN "activated" ELSE "trial"
    /\ ran' = ran \cup {trial}
    /\ UNCHANGED <<img0, img1, trial, tslot, tseq, floor, entries, logbook, fcause, tested, maxSv, done, faults>>

\* @role: meter @event: selftest_pass
\* Durable write 4: the "installed" entry confirms the trial.
SelfTestPass ==
    /\ pc = "trial"
    /\ logbook' = logbook \cup {Installed}
    /\ entries' = entries + 1
    /\ pc' = "commit"
    /\ tested' = tested \cup {trial}
    /\ UNCHANGED <<rec0, rec1, img0, img1, act, trial, tslot, tseq, floor, verifierIntact, fcause, ran, maxSv, done, faults>>

\* @role: meter @event: selftest_fail
\* Durable write 4': the "rolled back" entry; the rollback follows.
SelfTestFail ==
    /\ pc = "trial"
    /\ IF Mutant = "rollback_not_logged"
          THEN UNCHANGED <<logbook, entries>>
          ELSE /\ logbook' = logbook \cup {[n |-> tseq, v |-> trial.v, outcome |-> "rolled back", cause |-> "self-test failed"]}
               /\ entries' = entries + 1
    /\ pc' = "rollback"
    /\ UNCHANGED <<rec0, rec1, img0, img1, act, trial, tslot, tseq, floor, verifierIntact, fcause, ran, tested, maxSv, done, faults>>

\* @role: meter @event: raise_floor
\* Durable write 5: the floor rises to the committed software's security
\* version, only now that its self-test passed.
RaiseFloor ==
    /\ pc = "commit"
    /\ floor' = Max(Running.sv, floor)
    /\ pc' = "clear"
    /\ UNCHANGED <<rec0, rec1, img0, img1, act, trial, tslot, tseq, verifierIntact, entries, logbook, fcause, ran, tested, maxSv, done, faults>>

\* @role: meter @event: clear
\* Durable write 6: the attempt cleared; the install is complete.
Clear ==
    /\ pc = "clear"
    /\ trial' = None
    /\ pc' = "idle"
    /\ done' = done \cup {[n |-> tseq, v |-> trial.v, outcome |-> IF Running = trial THEN "installed" ELSE "rolled back"]}
    /\ maxSv' = Max(Running.sv, maxSv)
    /\ UNCHANGED <<rec0, rec1, img0, img1, act, tslot, tseq, floor, verifierIntact, entries, logbook, fcause, ran, tested, faults>>

\* The slot a rollback makes active: the one the attempt did not target.
Back == IF act = tslot THEN 1 - tslot ELSE act

\* @role: meter @event: rollback
\* The old slot active again and the attempt cleared (one durable write).
RollBack ==
    /\ pc = "rollback"
    /\ act' = Back
    /\ trial' = None
    /\ pc' = "idle"
    /\ done' = done \cup {[n |-> tseq, v |-> trial.v, outcome |-> IF Rec(Back) = trial THEN "installed" ELSE "rolled back"]}
    /\ UNCHANGED <<rec0, rec1, img0, img1, tslot, tseq, floor, verifierIntact, entries, logbook, fcause, ran, tested, maxSv, faults>>

\* @role: meter @event: fault(c)
\* Power fails, or a durable write fails, during an install (its settling
\* included): what is durable stays, the core's position is lost; it
\* settles next (at boot after a power loss).
Fault(c) ==
    /\ trial # None
    /\ faults < MaxFaults \* @bound
    /\ pc' = "settle"
    /\ fcause' = c
    /\ faults' = faults + 1
    /\ UNCHANGED <<rec0, rec1, img0, img1, act, trial, tslot, tseq, floor, verifierIntact, entries, logbook, ran, tested, maxSv, done>>

\* @role: meter @event: settle
\* An interrupted attempt is settled from what is durable: committed if its
\* "installed" entry is in the logbook, otherwise logged as rolled back
\* (unless its entry is already written) and rolled back.
Settle ==
    /\ pc = "settle"
    /\ IF Installed \in logbook /\ Mutant # "settle_ignores_installed"
          THEN /\ pc' = "commit"
               /\ UNCHANGED <<logbook, entries>>
          ELSE IF Mutant = "no_trial_boot" /\ act = tslot /\ entries < tseq
                  THEN /\ logbook' = logbook \cup {Installed}   \* the activation taken as final
                       /\ entries' = entries + 1
                       /\ pc' = "commit"
          ELSE IF entries < tseq
                  THEN /\ logbook' = logbook \cup {[n |-> tseq, v |-> trial.v, outcome |-> "rolled back", cause |-> fcause]}
                       /\ entries' = entries + 1
                       /\ pc' = "rollback"
                  ELSE /\ pc' = "rollback"
                       /\ UNCHANGED <<logbook, entries>>
    /\ UNCHANGED <<rec0, rec1, img0, img1, act, trial, tslot, tseq, floor, verifierIntact, fcause, ran, tested, maxSv, done, faults>>

Next ==
    \/ \E m \in Presentable : \E chk \in Checks : Offer(m, chk)
    \/ WriteSlot
    \/ Activate
    \/ SelfTestPass
    \/ SelfTestFail
    \/ RaiseFloor
    \/ Clear
    \/ RollBack
    \/ \E c \in Faults : Fault(c)
    \/ Settle

Spec == Init /\ [][Next]_vars

\* Fairness for L2's liveness half: the meter's fixed core keeps running its
\* install steps (a self-test ends, in a pass or a failure); downloads and
\* faults are not forced.
CoreStep == WriteSlot \/ Activate \/ SelfTestPass \/ SelfTestFail \/ RaiseFloor \/ Clear \/ RollBack \/ Settle
Fairness == WF_vars(CoreStep)

LiveSpec == Spec /\ Fairness

-----------------------------------------------------------------------------
\* S4a: every LR software that ever ran, on trial too, was signed by
\* manufacturer and authority.
S4_OnlyDualSignedRuns == \A m \in ran : m.lr => m.sigs = Signers

\* S4b: the running security version never falls below the highest one
\* ever committed (a trial boot included).
S4_SecurityVersionNeverDecreases == Running.sv >= maxSv

\* S4c: the running software is never below the committed floor (a failed
\* install neither locks the meter out nor leaves it unsafe).
S4_NotBelowFloor == Running.sv >= floor

\* S4d: every attempt that ended is in the logbook under its number, with
\* its version and what really happened to it: refused, installed (the new
\* software runs) or rolled back (the old one runs); and no entry is
\* written for an attempt that has not happened.
S4_Logged ==
    /\ \A d \in done : \E e \in logbook : e.n = d.n /\ e.v = d.v /\ e.outcome = d.outcome
    /\ \A e \in logbook : e.n <= entries

\* L2 (safety half): never bricked.  The active slot boots (its file holds
\* the image its record names); outside an install only software that
\* passed its self-test (or the factory's) runs; during an install the
\* software to fall back to is intact in the other slot.
L2_NeverBricked ==
    /\ Running # None
    /\ Img(act) = Running
    /\ trial = None => Running \in tested
    /\ trial # None => Rec(1 - tslot) # None /\ Img(1 - tslot) = Rec(1 - tslot)

\* L2 (liveness half): a started install ends, with tested software
\* running at or above the floor (the new version or the old one).
L2_InstallEnds ==
    \A v \in Versions :
        (trial # None /\ trial.v = v) ~> (trial = None /\ Running \in tested /\ Running.sv >= floor)

=============================================================================
