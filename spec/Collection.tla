----------------------------- MODULE Collection -----------------------------
(***************************************************************************)
(* Periodic collection (UC2) from a meter through a gateway to the        *)
(* head-end, with WAN outages, gateway restarts and meter power loss.     *)
(* The meter keeps each signed reading until the gateway's durable         *)
(* acknowledgement; the gateway keeps it in its persisted store-and-      *)
(* forward queue until the head-end's durable acknowledgement; the head-  *)
(* end stores only what carries the meter's signature, idempotently.  An  *)
(* attacker with the gateway's WAN credentials injects unsigned readings. *)
(*                                                                         *)
(* Properties: S1 (every stored reading was produced by the meter) and S3 *)
(* (no reading taken is ever lost: it is at the meter, in the queue, or   *)
(* stored), and L1 under fairness (every reading is eventually stored).   *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

CONSTANTS
    MaxReadings,
    MaxRestarts,
    MaxOutages,    \* WAN outages in a run (finitely many: L1 needs the WAN back)
    Mutant

Mutants == {"none", "volatile_queue", "unsigned_accepted"}
ASSUME Mutant \in Mutants

\* A reading is its number; a forged one carries no signature.
Item == [r : 1..MaxReadings, signed : BOOLEAN]

VARIABLES
    \* @type: Int; @role: meter; @persist
    taken,
    \* @type: Set(Int); @role: meter; @persist
    meterBuf,      \* signed readings not yet acknowledged by the gateway
    \* @type: Set(ITEM); @role: gateway; @persist
    queue,         \* store-and-forward queue
    \* @type: Bool; @role: wan
    wanUp,
    \* @type: Set(ITEM); @role: attacker
    forged,        \* unsigned items injected towards the head-end
    \* @type: Set(ITEM); @role: headend; @persist
    stored,
    \* @type: Int; @role: gateway
    restarts,
    \* @type: Int; @role: wan
    outages

vars == <<taken, meterBuf, queue, wanUp, forged, stored, restarts, outages>>

TypeOK ==
    /\ taken \in 0..MaxReadings
    /\ meterBuf \subseteq 1..MaxReadings
    /\ queue \subseteq Item
    /\ stored \subseteq Item
    /\ wanUp \in BOOLEAN

Init ==
    /\ taken = 0
    /\ meterBuf = {}
    /\ queue = {}
    /\ wanUp = TRUE
    /\ forged = {}
    /\ stored = {}
    /\ restarts = 0
    /\ outages = 0

\* @role: meter @event: measure
Take ==
    /\ taken < MaxReadings
    /\ taken' = taken + 1
    /\ meterBuf' = meterBuf \cup {taken + 1}
    /\ UNCHANGED <<queue, wanUp, forged, stored, restarts, outages>>

\* @role: gateway @event: collect(r)
\* The gateway queues the reading durably, then acknowledges; the meter
\* drops it only on that acknowledgement.
Collect(r) ==
    /\ r \in meterBuf
    /\ queue' = queue \cup {[r |-> r, signed |-> TRUE]}
    /\ meterBuf' = meterBuf \ {r}
    /\ UNCHANGED <<taken, wanUp, forged, stored, restarts, outages>>

\* @role: headend @event: ingest(i)
\* The head-end verifies the signature, stores idempotently and commits
\* before acknowledging; the gateway drops the item on that acknowledgement.
Upload(i) ==
    /\ i \in queue
    /\ wanUp
    /\ i.signed \/ Mutant = "unsigned_accepted"
    /\ stored' = stored \cup {i}
    /\ queue' = queue \ {i}
    /\ UNCHANGED <<taken, meterBuf, wanUp, forged, restarts, outages>>

\* @role: attacker @event: inject(i)
Inject(i) ==
    /\ ~i.signed
    /\ forged' = forged \cup {i}
    /\ UNCHANGED <<taken, meterBuf, queue, wanUp, stored, restarts, outages>>

\* @role: headend @event: ingest_forged(i)
IngestForged(i) ==
    /\ i \in forged
    /\ i.signed \/ Mutant = "unsigned_accepted"
    /\ stored' = stored \cup {i}
    /\ UNCHANGED <<taken, meterBuf, queue, wanUp, forged, restarts, outages>>

\* @role: wan @event: outage
WanDown ==
    /\ wanUp /\ outages < MaxOutages
    /\ wanUp' = FALSE /\ outages' = outages + 1
    /\ UNCHANGED <<taken, meterBuf, queue, forged, stored, restarts>>
\* @role: wan @event: recovery
WanBack == ~wanUp /\ wanUp' = TRUE /\ UNCHANGED <<taken, meterBuf, queue, forged, stored, restarts, outages>>

\* @role: gateway @event: restart
Restart ==
    /\ restarts < MaxRestarts
    /\ restarts' = restarts + 1
    /\ queue' = IF Mutant = "volatile_queue" THEN {} ELSE queue
    /\ UNCHANGED <<taken, meterBuf, wanUp, forged, stored, outages>>

Next ==
    \/ Take
    \/ \E r \in meterBuf : Collect(r)
    \/ \E i \in queue : Upload(i)
    \/ \E i \in Item : Inject(i)
    \/ \E i \in forged : IngestForged(i)
    \/ WanDown \/ WanBack
    \/ Restart

Spec == Init /\ [][Next]_vars

\* Fairness for L1: the gateway keeps collecting, the WAN comes back, the
\* head-end keeps ingesting.  Each action states its own guard (r \in meterBuf,
\* i \in queue): without it WF_vars(Upload(i)) for every i \in Item would
\* let the head-end store a reading that was never collected, and L1 would
\* hold even without fairness of collection.
Fairness ==
    /\ \A r \in 1..MaxReadings : WF_vars(Collect(r))
    /\ WF_vars(WanBack)
    /\ \A i \in Item : WF_vars(Upload(i))

LiveSpec == Spec /\ Fairness

-----------------------------------------------------------------------------
\* S1: every stored reading carries the meter's signature.
S1_Authentic == \A i \in stored : i.signed

\* S3: a reading taken is at the meter, in the queue, or stored.
S3_NoLoss ==
    \A r \in 1..taken :
        r \in meterBuf \/ [r |-> r, signed |-> TRUE] \in queue \/ [r |-> r, signed |-> TRUE] \in stored

\* L1: every reading taken is eventually stored.
L1_EventuallyStored ==
    \A r \in 1..MaxReadings : (r <= taken) ~> ([r |-> r, signed |-> TRUE] \in stored)

=============================================================================
