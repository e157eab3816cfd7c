----------------------------- MODULE Collection -----------------------------
(***************************************************************************)
(* Periodic collection (UC2) from a meter through a gateway to the head-   *)
(* end, with WAN outages, gateway restarts and meter power loss. The meter *)
(* keeps each signed reading until the head-end's end-to-end               *)
(* acknowledgement (signed by the head-end after its durable commit, and   *)
(* relayed by the gateway, which can withhold it but not forge it); the    *)
(* gateway keeps it in its persisted store-and-forward queue until the     *)
(* head-end's durable acknowledgement; the head-end stores only what       *)
(* carries the meter's signature, idempotently.  An attacker with the      *)
(* gateway's WAN credentials injects unsigned readings, and a compromised  *)
(* gateway acknowledges a reading to the meter and drops it (from its      *)
(* queue, and forwards it no more): the meter does not act on a gateway's  *)
(* acknowledgement (the mutant ack_then_drop forgets the reading on it, as *)
(* the meter once did on the honest gateway's), and what the gateway       *)
(* dropped is collected again from the medium, which keeps what the meter  *)
(* sent (the meter answers a request for a kept item with the same bytes). *)
(* Every exchange is a message: the medium and the WAN keep what was sent  *)
(* (so anything may arrive again), the WAN delivers only while it is up,   *)
(* and each role acts on its own state and the messages it receives.       *)
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
    MaxAckDrops,   \* readings a compromised gateway acknowledges and drops
    Mutant

Mutants == {"none", "unsigned_accepted", "gateway_gives_up", "ack_then_drop"}
ASSUME Mutant \in Mutants

\* A reading is its number; a forged one carries no signature.
\* @typeAlias: ITEM = [r: Int, signed: Bool];
Item == [r : 1..MaxReadings, signed : BOOLEAN]

VARIABLES
    \* @type: Int; @role: meter; @persist
    taken,
    \* @type: Set(Int); @role: meter; @persist; @store
    meterBuf,      \* signed readings not yet acknowledged end to end by the head-end
    \* @type: Set(Int); @role: attacker
    plc,           \* readings the meter sent on the medium
    \* @type: Set(Int); @role: attacker
    plcAcks,       \* a gateway's own acknowledgements on the medium (only a
                   \* compromised gateway sends them; the meter ignores them)
    \* @type: Set(ITEM); @role: gateway; @persist; @store
    queue,         \* store-and-forward queue
    \* @type: Set(ITEM); @role: wan
    uploads,       \* items the gateway sent towards the head-end
    \* @type: Set(ITEM); @role: wan
    delivered,     \* items the WAN delivered (and the attacker injected)
    \* @type: Set(ITEM); @role: wan
    acks,          \* the head-end's signed acknowledgements, after its commit
    \* @type: Bool; @role: wan
    wanUp,
    \* @type: Set(ITEM); @role: headend; @persist; @store
    stored,
    \* @type: Int; @role: history
    restarts,
    \* @type: Int; @role: history
    outages,
    \* @type: Int; @role: history
    ackDrops

vars == <<taken, meterBuf, plc, plcAcks, queue, uploads, delivered, acks, wanUp, stored, restarts, outages, ackDrops>>

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
    /\ ackDrops = 0

\* @role: meter @event: measure
\* The meter signs a reading, keeps it durably and sends it.
Take ==
    /\ taken < MaxReadings  \* @bound
    /\ taken' = taken + 1
    /\ meterBuf' = meterBuf \cup {taken + 1}
    /\ plc' = plc \cup {taken + 1}
    /\ UNCHANGED <<plcAcks, queue, uploads, delivered, acks, wanUp, stored, restarts, outages, ackDrops>>

\* @role: gateway @event: collect(r)
\* The gateway queues a reading it received durably.  It sends the meter
\* no acknowledgement of its own: the meter forgets a reading only on the
\* head-end's (EndToEndAcked), whatever a gateway says (AckDrop).
Collect(r) ==
    /\ queue' = queue \cup {[r |-> r, signed |-> TRUE]}
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, uploads, delivered, acks, wanUp, stored, restarts, outages, ackDrops>>

\* @role: gateway @event: ack_drop(r)
\* A compromised gateway acknowledges a reading to the meter and drops it:
\* it is no longer in the queue, so it is not uploaded (again).  The meter
\* still holds it until the head-end's acknowledgement, and the medium
\* still carries it (the meter answers the same signed item when asked
\* again), so an honest gateway collects it again.
AckDrop(r) ==
    /\ ackDrops < MaxAckDrops  \* @bound
    /\ ackDrops' = ackDrops + 1
    /\ plcAcks' = plcAcks \cup {r}
    /\ queue' = queue \ {[r |-> r, signed |-> TRUE]}
    /\ UNCHANGED <<taken, meterBuf, plc, uploads, delivered, acks, wanUp, stored, restarts, outages>>

\* The mutant ack_then_drop: the meter forgets a reading on a gateway's hop
\* acknowledgement (as it once did), which a compromised gateway sends
\* for a reading it drops.  Not a step of the protocol (never enabled with
\* Mutant = "none"), so no role runs it.
HopAcked(r) ==
    /\ Mutant = "ack_then_drop"
    /\ meterBuf' = meterBuf \ {r}
    /\ UNCHANGED <<taken, plc, plcAcks, queue, uploads, delivered, acks, wanUp, stored, restarts, outages, ackDrops>>

\* @role: meter @event: e2e_ack(i)
\* The head-end's end-to-end acknowledgement, relayed by the gateway: it
\* verifies under the head-end's key (a gateway cannot forge one) and names
\* the meter's own signed item; only now the meter forgets the reading.
EndToEndAcked(i) ==
    /\ i.signed
    /\ meterBuf' = meterBuf \ {i.r}
    /\ UNCHANGED <<taken, plc, plcAcks, queue, uploads, delivered, acks, wanUp, stored, restarts, outages, ackDrops>>

\* @role: gateway @event: upload(i)
\* The gateway sends an item of its queue (again, until acknowledged).
Upload(i) ==
    /\ i \in queue
    /\ uploads' = uploads \cup {i}
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, delivered, acks, wanUp, stored, restarts, outages, ackDrops>>

\* @role: wan @event: deliver(i)
\* The WAN delivers what was sent while it is up.
Deliver(i) ==
    /\ wanUp
    /\ delivered' = delivered \cup {i}
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, uploads, acks, wanUp, stored, restarts, outages, ackDrops>>

\* @role: attacker @event: inject(i)
\* With the gateway's WAN credentials the attacker sends unsigned items.
Inject(i) ==
    /\ ~i.signed
    /\ delivered' = delivered \cup {i}
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, uploads, acks, wanUp, stored, restarts, outages, ackDrops>>

\* @crypto
\* The item carries the meter's valid signature (crypto is abstract).
SignedByMeter(i) == i.signed

\* @role: headend @event: ingest(i)
\* The head-end verifies the signature, stores idempotently and commits
\* before acknowledging (to the gateway, and end to end to the meter: the
\* acknowledgement is signed by the head-end and names the item).
Ingest(i) ==
    /\ SignedByMeter(i) \/ Mutant = "unsigned_accepted"
    /\ stored' = stored \cup {i}
    /\ acks' = acks \cup {i}
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, uploads, delivered, wanUp, restarts, outages, ackDrops>>

\* @role: gateway @event: upload_ack(i)
\* The gateway drops an item only on the head-end's acknowledgement.
Uploaded(i) ==
    /\ queue' = queue \ {i}
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, uploads, delivered, acks, wanUp, stored, restarts, outages, ackDrops>>

\* @role: wan @event: outage
WanDown ==
    /\ wanUp /\ outages < MaxOutages  \* @bound
    /\ wanUp' = FALSE /\ outages' = outages + 1
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, uploads, delivered, acks, stored, restarts, ackDrops>>
\* @role: wan @event: recovery
WanBack == ~wanUp /\ wanUp' = TRUE /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, uploads, delivered, acks, stored, restarts, outages, ackDrops>>

\* @role: gateway @event: restart
\* The gateway's queue is persisted and survives a restart.  Since the meter
\* keeps each reading until the head-end's acknowledgement, a queue lost in
\* a restart would lose no reading (it is collected again); it is persisted
\* so that what was collected need not be.
Restart ==
    /\ restarts < MaxRestarts  \* @bound
    /\ restarts' = restarts + 1
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, uploads, delivered, acks, wanUp, stored, outages, ackDrops>>

Next ==
    \/ Take
    \/ \E r \in plc : Collect(r)
    \/ \E r \in plc : AckDrop(r)
    \/ \E r \in plcAcks : HopAcked(r)
    \/ \E i \in acks : EndToEndAcked(i)
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
    /\ UNCHANGED <<taken, meterBuf, plc, plcAcks, queue, uploads, acks, wanUp, stored, restarts, outages, ackDrops>>

\* Trace validation of the roles' logs (spec/trace/Collection.cfg): Next
\* without the attacker's Inject, the compromised gateway's AckDrop and the
\* WAN's outages (a run the roles log has none of them), and with DeliverAll for Deliver. Deliver steps change no
\* role's variable and commute with each other, so a behaviour of
\* RolesView is a behaviour of Next with each DeliverAll written out as
\* Deliver steps; the one hidden step before a head-end's Ingest is then
\* not a choice among the items in flight, and the check's candidate
\* states do not multiply with them.
RolesView ==
    \/ Take
    \/ \E r \in plc : Collect(r)
    \/ \E i \in acks : EndToEndAcked(i)
    \/ \E i \in queue : Upload(i)
    \/ DeliverAll
    \/ \E i \in delivered : Ingest(i)
    \/ \E i \in acks : Uploaded(i)
    \/ Restart

\* Fairness for L1: the roles keep collecting, uploading and acknowledging
\* (the gateway relays the head-end's acknowledgements to the meter), the
\* WAN keeps delivering and comes back, the head-end keeps ingesting.  A
\* reading the compromised gateway dropped is collected again.
\* Each fairness condition is on an action with its message's presence as
\* a conjunct (r \in plc, i \in uploads, ...): without it WF_vars(Ingest(i))
\* for every i \in Item would let the head-end store a reading nobody sent.
\* The mutant gateway_gives_up drops the gateway's obligation to keep
\* uploading what it queued.
Fairness ==
    /\ \A r \in 1..MaxReadings : WF_vars(r \in plc /\ Collect(r))
    /\ \A i \in Item : WF_vars(i \in acks /\ EndToEndAcked(i))
    /\ \A i \in Item : WF_vars(Mutant # "gateway_gives_up" /\ Upload(i))
    /\ \A i \in Item : WF_vars(i \in uploads /\ Deliver(i))
    /\ \A i \in Item : WF_vars(i \in delivered /\ Ingest(i))
    /\ \A i \in Item : WF_vars(i \in acks /\ Uploaded(i))
    /\ WF_vars(WanBack)

LiveSpec == Spec /\ Fairness

-----------------------------------------------------------------------------
\* S1: every stored reading carries the meter's signature.
S1_Authentic == \A i \in stored : i.signed

\* S3: a reading taken is at the meter, in the queue, or stored (whatever
\* acknowledgement the meter received).
S3_NoLoss ==
    \A r \in 1..taken :
        r \in meterBuf \/ [r |-> r, signed |-> TRUE] \in queue \/ [r |-> r, signed |-> TRUE] \in stored

\* L1: every reading taken is eventually stored.
L1_EventuallyStored ==
    \A r \in 1..MaxReadings : (r <= taken) ~> ([r |-> r, signed |-> TRUE] \in stored)

=============================================================================
