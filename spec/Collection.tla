----------------------------- MODULE Collection -----------------------------
(***************************************************************************)
(* Periodic collection (UC2) from a meter through a gateway to the        *)
(* head-end, with WAN outages, gateway restarts and meter power loss.     *)
(* The meter keeps each signed reading until the gateway's durable         *)
(* acknowledgement; the gateway keeps it in its persisted store-and-      *)
(* forward queue until the head-end's durable acknowledgement; the head-  *)
(* end stores only what carries the meter's signature, idempotently.  An  *)
(* attacker with the gateway's WAN credentials injects unsigned readings. *)
(* Every exchange is a message: the medium and the WAN keep what was sent *)
(* (so anything may arrive again), the WAN delivers only while it is up,  *)
(* and each role acts on its own state and the messages it receives.      *)
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
\* @typeAlias: ITEM = [r: Int, signed: Bool];
Item == [r : 1..MaxReadings, signed : BOOLEAN]

VARIABLES
    \* @type: Int; @role: meter; @persist
    taken,
    \* @type: Set(Int); @role: meter; @persist; @store
    meterBuf,      \* signed readings not yet acknowledged by the gateway
    \* @type: Set(Int); @role: attacker
    plc,           \* readings the meter sent on the medium
    \* @type: Set(Int); @role: attacker
    plcAcks,       \* the gateway's acknowledgements on the medium
    \* @type: Set(ITEM); @role: gateway; @persist; @store
    queue,         \* store-and-forward queue
    \* @type: Set(ITEM); @role: wan
    uploads,       \* items the gateway sent towards the head-end
    \* @type: Set(ITEM); @role: wan
    delivered,     \* items the WAN delivered (and the attacker injected)
    \* @type: Set(ITEM); @role: wan
    acks,          \* the head-end's acknowledgements
    \* @type: Bool; @role: wan
    wanUp,
    \* @type: Set(ITEM); @role: headend; @persist; @store
    stored,
    \* @type: Int; @role: history
    restarts,
    \* @type: Int; @role: history
    outages

vars == <<taken, meterBuf, plc, plcAcks, queue, uploads, delivered, acks, wanUp, stored, restarts, outages>>

TypeOK ==
    /\ taken \in 0..MaxReadings
    /\ meterBuf \subseteq 1..MaxReadings
    /\ plc \subseteq 1..MaxReadings
    /\ plcAcks \subseteq 1..MaxReadings
    /\ queue \subseteq Item
    /\ uploads \subseteq Item
    /\ delivered \subseteq Item
    /\ acks \subseteq Item
    /\ stored \subseteq Item
    /\ wanUp \in BOOLEAN

Init ==
    /\ taken = 0
    /\ meterBuf = {}
    /\ plc = {}
    /\ plcAcks = {}
    /\ queue = {}
    /\ uploads = {}
    /\ delivered = {}
    /\ acks = {}
    /\ wanUp = TRUE
    /\ stored = {}
    /\ restarts = 0
    /\ outages = 0

\* @role: meter @event: measure
\* The meter signs a reading, keeps it durably and sends it.
Take ==
    /\ taken < MaxReadings  \* @bound
    /\ taken' = taken + 1
    /\ meterBuf' = meterBuf \cup {taken + 1}
    /\ plc' = plc \cup {taken + 1}
    /\ UNCHANGED <<plcAcks, queue, uploads, delivered, acks, wanUp, stored, restarts, outages>>

\* @role: gateway @event: collect(r)
\* The gateway queues a reading it received durably, then acknowledges it.
Collect(r) ==
    /\ queue' = queue \cup {[r |-> r, signed |-> TRUE]}
    /\ plcAcks' = plcAcks \cup {r}
    /\ UNCHANGED <<taken, meterBuf, plc, uploads, delivered, acks, wanUp, stored, restarts, outages>>

\* @role: meter @event: ack(r)
\* The meter drops a reading only on the gateway's acknowledgement.
Acked(r) ==
    /\ meterBuf' = meterBuf \ {r}
    /\ UNCHANGED <<taken, plc, plcAcks, queue, uploads, delivered, acks, wanUp, stored, restarts, outages>>

\* @role: gateway @event: upload(i)
\* The gateway sends an item of its queue (again, until acknowledged).
Upload(i) ==
    /\ i \in queue
    /\ uploads' = uploads \cup {i}
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, delivered, acks, wanUp, stored, restarts, outages>>

\* @role: wan @event: deliver(i)
\* The WAN delivers what was sent while it is up.
Deliver(i) ==
    /\ wanUp
    /\ delivered' = delivered \cup {i}
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, uploads, acks, wanUp, stored, restarts, outages>>

\* @role: attacker @event: inject(i)
\* With the gateway's WAN credentials the attacker sends unsigned items.
Inject(i) ==
    /\ ~i.signed
    /\ delivered' = delivered \cup {i}
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, uploads, acks, wanUp, stored, restarts, outages>>

\* @crypto
\* The item carries the meter's valid signature (crypto is abstract).
SignedByMeter(i) == i.signed

\* @role: headend @event: ingest(i)
\* The head-end verifies the signature, stores idempotently and commits
\* before acknowledging.
Ingest(i) ==
    /\ SignedByMeter(i) \/ Mutant = "unsigned_accepted"
    /\ stored' = stored \cup {i}
    /\ acks' = acks \cup {i}
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, uploads, delivered, wanUp, restarts, outages>>

\* @role: gateway @event: upload_ack(i)
\* The gateway drops an item only on the head-end's acknowledgement.
Uploaded(i) ==
    /\ queue' = queue \ {i}
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, uploads, delivered, acks, wanUp, stored, restarts, outages>>

\* @role: wan @event: outage
WanDown ==
    /\ wanUp /\ outages < MaxOutages  \* @bound
    /\ wanUp' = FALSE /\ outages' = outages + 1
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, uploads, delivered, acks, stored, restarts>>
\* @role: wan @event: recovery
WanBack == ~wanUp /\ wanUp' = TRUE /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, uploads, delivered, acks, stored, restarts, outages>>

\* @role: gateway @event: restart
Restart ==
    /\ restarts < MaxRestarts  \* @bound
    /\ restarts' = restarts + 1
    /\ queue' = IF Mutant = "volatile_queue" THEN {} ELSE queue
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, uploads, delivered, acks, wanUp, stored, outages>>

Next ==
    \/ Take
    \/ \E r \in plc : Collect(r)
    \/ \E r \in plcAcks : Acked(r)
    \/ \E i \in queue : Upload(i)
    \/ \E i \in uploads : Deliver(i)
    \/ \E i \in Item : Inject(i)
    \/ \E i \in delivered : Ingest(i)
    \/ \E i \in acks : Uploaded(i)
    \/ WanDown \/ WanBack
    \/ Restart

Spec == Init /\ [][Next]_vars

\* @role: wan @event: deliver_all
\* Trace validation only (RolesView): the WAN delivers everything sent so
\* far in one step, which is several Deliver steps of Next.
DeliverAll ==
    /\ wanUp
    /\ ~(uploads \subseteq delivered)
    /\ delivered' = delivered \cup uploads
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, uploads, acks, wanUp, stored, restarts, outages>>

\* Trace validation of the roles' logs (spec/trace/Collection.cfg): Next
\* without the attacker's Inject and the WAN's outages (a run the roles log
\* has neither), and with DeliverAll for Deliver. Deliver steps change no
\* role's variable and commute with each other, so a behaviour of
\* RolesView is a behaviour of Next with each DeliverAll written out as
\* Deliver steps; the one hidden step before a head-end's Ingest is then
\* not a choice among the items in flight, and the check's candidate
\* states do not multiply with them.
RolesView ==
    \/ Take
    \/ \E r \in plc : Collect(r)
    \/ \E r \in plcAcks : Acked(r)
    \/ \E i \in queue : Upload(i)
    \/ DeliverAll
    \/ \E i \in delivered : Ingest(i)
    \/ \E i \in acks : Uploaded(i)
    \/ Restart

\* Fairness for L1: the roles keep collecting, uploading and acknowledging,
\* the WAN keeps delivering and comes back, the head-end keeps ingesting.
\* Each fairness condition is on an action with its message's presence as
\* a conjunct (r \in plc, i \in uploads, ...): without it WF_vars(Ingest(i))
\* for every i \in Item would let the head-end store a reading nobody sent.
Fairness ==
    /\ \A r \in 1..MaxReadings : WF_vars(r \in plc /\ Collect(r))
    /\ \A r \in 1..MaxReadings : WF_vars(r \in plcAcks /\ Acked(r))
    /\ \A i \in Item : WF_vars(Upload(i))
    /\ \A i \in Item : WF_vars(i \in uploads /\ Deliver(i))
    /\ \A i \in Item : WF_vars(i \in delivered /\ Ingest(i))
    /\ \A i \in Item : WF_vars(i \in acks /\ Uploaded(i))
    /\ WF_vars(WanBack)

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
