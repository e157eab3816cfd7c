------------------------------- MODULE Tamper -------------------------------
(***************************************************************************)
(* Tamper and event alarms (UC9) from a meter through a gateway to the    *)
(* head-end.  The meter detects a tamper (cover opened, magnetic field),  *)
(* signs the event with its metrological key and appends it to its        *)
(* persisted event log in the same step, before anything else: a crash   *)
(* after detection loses no event.  The meter keeps each event until the *)
(* head-end's end-to-end (signed) acknowledgement, so the gateway is only *)
(* a store-and-forward cache: it queues events durably (restarts, WAN     *)
(* outages), and a compromised gateway may drop or delay events and      *)
(* acknowledgements, and inject unsigned or altered events (it holds no   *)
(* meter key), but cannot forge a signature.  The head-end stores only    *)
(* what verifies under the meter's key, each event once, and raises one   *)
(* alarm per event.                                                       *)
(*                                                                         *)
(* Properties (events are signed data, so the reading properties apply):  *)
(* S1 (every stored event was signed by the meter: authentic), S2 (each   *)
(* event raises at most one alarm: no duplicate), S3 (every detected      *)
(* event is in the meter's log, in the queue or stored: no loss) and, in  *)
(* TamperLive.cfg, L1 under weak fairness (every detected event is        *)
(* eventually stored).  Each action writes only its role's variables:   *)
(* the messages between the roles (sent events, uploads, acknowledge-   *)
(* ments) are sets that only grow, as in Collection, and each fairness  *)
(* condition names the presence of its message.                         *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    MaxEvents,     \* tamper detections in a run
    MaxCrashes,    \* meter power losses
    MaxRestarts,   \* gateway restarts
    MaxOutages,    \* WAN outages (finitely many: L1 needs the WAN back)
    MaxDrops,      \* events or acknowledgements the compromised gateway drops
    MaxInjects,    \* unsigned or altered events it injects
    Mutant

Mutants == {"none", "event_not_persisted", "gateway_filters", "no_dedup", "meter_gives_up"}
ASSUME Mutant \in Mutants

Kinds == {"cover", "magnetic"}

\* An event is its sequence number and kind; signed means it carries the
\* meter's signature over exactly these fields (an altered event does not).
\* @typeAlias: ITEM = [n: Int, kind: Str, signed: Bool];
\* @type: Set(ITEM);
Item == [n : 1..MaxEvents, kind : Kinds, signed : BOOLEAN]

VARIABLES
    \* @type: Int; @role: meter; @persist
    seq,           \* event counter
    \* @type: Set(ITEM); @role: meter
    sensed,        \* detected but not yet persisted (only the mutant uses it)
    \* @type: Set(ITEM); @role: meter; @persist
    mlog,          \* signed events not yet acknowledged by the head-end
    \* @type: Set(ITEM); @role: history
    detected,      \* history: every event the meter detected
    \* @type: Set(ITEM); @role: attacker
    plc,           \* events the meter sent (and resent) on the medium
    \* @type: Set(ITEM); @role: gateway; @persist
    queue,         \* store-and-forward queue
    \* @type: Set(ITEM); @role: wan
    uploads,       \* events the gateway sent to the head-end
    \* @type: Set(Int); @role: wan
    acks,          \* the head-end's signed acknowledgements, by event number
    \* @type: Bool; @role: gateway
    wanUp,         \* the gateway's WAN link is up
    \* @type: Set(ITEM); @role: headend; @persist; @store
    stored,        \* the head-end's database of events (outside its machine)
    \* @type: Set(Int); @role: headend; @persist; @store
    alarms,        \* the events with an alarm, by number: the head-end's alarm table
                   \* (outside its machine, as many as events are stored)
    \* @type: Seq(Int); @role: history
    raised,        \* history: every alarm raised, in order (S2 counts them)
    \* @type: Int; @role: history
    crashes,
    \* @type: Int; @role: history
    restarts,
    \* @type: Int; @role: history
    outages,
    \* @type: Int; @role: history
    drops,
    \* @type: Int; @role: history
    injects

vars == <<seq, sensed, mlog, detected, plc, queue, uploads, acks, wanUp, stored, alarms, raised, crashes, restarts, outages, drops, injects>>

TypeOK ==
    /\ seq \in 0..MaxEvents
    /\ sensed \subseteq Item
    /\ mlog \subseteq Item
    /\ detected \subseteq Item
    /\ plc \subseteq Item
    /\ queue \subseteq Item
    /\ uploads \subseteq Item
    /\ acks \subseteq 1..MaxEvents
    /\ wanUp \in BOOLEAN
    /\ stored \subseteq Item
    /\ alarms \subseteq 1..MaxEvents
    /\ raised \in Seq(1..MaxEvents)

Init ==
    /\ seq = 0
    /\ sensed = {}
    /\ mlog = {}
    /\ detected = {}
    /\ plc = {}
    /\ queue = {}
    /\ uploads = {}
    /\ acks = {}
    /\ wanUp = TRUE
    /\ stored = {}
    /\ alarms = {}
    /\ raised = <<>>
    /\ crashes = 0
    /\ restarts = 0
    /\ outages = 0
    /\ drops = 0
    /\ injects = 0

\* @role: meter @event: tamper(k)
\* The sensor fires: the event is numbered, signed and appended to the
\* persisted log in one step, before it is sent or shown.  The mutant keeps
\* it in memory first and persists it in a later step.
Detect(k) ==
    /\ seq < MaxEvents  \* @bound
    /\ LET e == [n |-> seq + 1, kind |-> k, signed |-> TRUE] IN
       /\ seq' = seq + 1
       /\ detected' = detected \cup {e}
       /\ IF Mutant = "event_not_persisted"
             THEN /\ sensed' = sensed \cup {e} /\ UNCHANGED mlog
             ELSE /\ mlog' = mlog \cup {e} /\ UNCHANGED sensed
    /\ UNCHANGED <<plc, queue, uploads, acks, wanUp, stored, alarms, raised, crashes, restarts, outages, drops, injects>>

\* @role: meter @event: persist(e)
Persist(e) ==
    /\ e \in sensed
    /\ sensed' = sensed \ {e}
    /\ mlog' = mlog \cup {e}
    /\ UNCHANGED <<seq, detected, plc, queue, uploads, acks, wanUp, stored, alarms, raised, crashes, restarts, outages, drops, injects>>

\* @role: meter @event: power_loss
Crash ==
    /\ crashes < MaxCrashes  \* @bound
    /\ crashes' = crashes + 1
    /\ sensed' = {}
    /\ UNCHANGED <<seq, mlog, detected, plc, queue, uploads, acks, wanUp, stored, alarms, raised, restarts, outages, drops, injects>>

\* @role: meter @event: send(e)
\* The meter sends (or resends) an unacknowledged event to its gateway.
Send(e) ==
    /\ e \in mlog
    /\ plc' = plc \cup {e}
    /\ UNCHANGED <<seq, sensed, mlog, detected, queue, uploads, acks, wanUp, stored, alarms, raised, crashes, restarts, outages, drops, injects>>

\* @role: gateway @event: collect(e)
\* The gateway queues an event it received durably.
Collect(e) ==
    /\ e \notin queue
    /\ queue' = queue \cup {e}
    /\ UNCHANGED <<seq, sensed, mlog, detected, plc, uploads, acks, wanUp, stored, alarms, raised, crashes, restarts, outages, drops, injects>>

\* @role: gateway @event: inject(e)
\* The compromised gateway forwards an event it made or altered: without
\* the meter's key it cannot sign it.
Inject(e) ==
    /\ ~e.signed
    /\ injects < MaxInjects  \* @bound
    /\ injects' = injects + 1
    /\ queue' = queue \cup {e}
    /\ UNCHANGED <<seq, sensed, mlog, detected, plc, uploads, acks, wanUp, stored, alarms, raised, crashes, restarts, outages, drops>>

\* @role: gateway @event: drop(e)
\* The compromised gateway drops a queued event (the meter still holds it
\* until the head-end's acknowledgement, and resends it).  Withholding an
\* acknowledgement is not relaying it: nothing makes the meter receive one.
Drop(e) ==
    /\ e \in queue
    /\ drops < MaxDrops  \* @bound
    /\ drops' = drops + 1
    /\ queue' = queue \ {e}
    /\ UNCHANGED <<seq, sensed, mlog, detected, plc, uploads, acks, wanUp, stored, alarms, raised, crashes, restarts, outages, injects>>

\* @role: gateway @event: upload(e)
\* The gateway sends a queued event to the head-end (again, until
\* acknowledged) while its WAN link is up.
Upload(e) ==
    /\ e \in queue
    /\ wanUp
    /\ uploads' = uploads \cup {e}
    /\ UNCHANGED <<seq, sensed, mlog, detected, plc, queue, acks, wanUp, stored, alarms, raised, crashes, restarts, outages, drops, injects>>

\* @role: headend @event: ingest(e)
\* The head-end verifies the meter's signature, stores the event once
\* (idempotent on its number), raises its alarm once, commits, and sends a
\* signed acknowledgement.  The mutant gateway_filters trusts the gateway
\* to have checked signatures.
Ingest(e) ==
    /\ e.signed \/ Mutant = "gateway_filters"
    /\ stored' = stored \cup {e}
    /\ IF e \in stored /\ Mutant # "no_dedup"
          THEN UNCHANGED alarms
          ELSE alarms' = alarms \cup {e.n}
    /\ raised' = IF e \in stored /\ Mutant # "no_dedup" THEN raised ELSE Append(raised, e.n)
    /\ acks' = acks \cup {e.n}
    /\ UNCHANGED <<seq, sensed, mlog, detected, plc, queue, uploads, wanUp, crashes, restarts, outages, drops, injects>>

\* @role: gateway @event: upload_ack(n)
\* The gateway drops a queued event only on the head-end's acknowledgement.
Uploaded(n) ==
    /\ queue' = {e \in queue : e.n # n}
    /\ UNCHANGED <<seq, sensed, mlog, detected, plc, uploads, acks, wanUp, stored, alarms, raised, crashes, restarts, outages, drops, injects>>

\* @role: meter @event: ack(n)
\* The head-end's signed acknowledgement: only now the meter forgets the event.
ReceiveAck(n) ==
    /\ mlog' = {e \in mlog : e.n # n}
    /\ UNCHANGED <<seq, sensed, detected, plc, queue, uploads, acks, wanUp, stored, alarms, raised, crashes, restarts, outages, drops, injects>>

\* @role: gateway @event: restart
\* The persisted queue survives a restart; the volatile wanUp starts again
\* as in Init (the restarted gateway tries its link; a failure is the next
\* WanDown).
Restart ==
    /\ restarts < MaxRestarts  \* @bound
    /\ restarts' = restarts + 1
    /\ wanUp' = TRUE
    /\ UNCHANGED <<seq, sensed, mlog, detected, plc, queue, uploads, acks, stored, alarms, raised, crashes, outages, drops, injects>>

\* @role: gateway @event: outage
WanDown ==
    /\ wanUp /\ outages < MaxOutages  \* @bound
    /\ wanUp' = FALSE /\ outages' = outages + 1
    /\ UNCHANGED <<seq, sensed, mlog, detected, plc, queue, uploads, acks, stored, alarms, raised, crashes, restarts, drops, injects>>
\* @role: gateway @event: recovery
WanBack == ~wanUp /\ wanUp' = TRUE /\ UNCHANGED <<seq, sensed, mlog, detected, plc, queue, uploads, acks, stored, alarms, raised, crashes, restarts, outages, drops, injects>>

Next ==
    \/ \E k \in Kinds : Detect(k)
    \/ \E e \in sensed : Persist(e)
    \/ Crash
    \/ \E e \in mlog : Send(e)
    \/ \E e \in plc : Collect(e)
    \/ \E e \in Item : Inject(e)
    \/ \E e \in queue : Drop(e)
    \/ \E e \in queue : Upload(e)
    \/ \E e \in uploads : Ingest(e)
    \/ \E n \in acks : Uploaded(n)
    \/ \E n \in acks : ReceiveAck(n)
    \/ Restart
    \/ WanDown \/ WanBack

Spec == Init /\ [][Next]_vars

\* Fairness for L1: the meter persists and (re)sends, the gateway queues
\* and uploads, the head-end keeps ingesting, acknowledgements arrive, the
\* WAN comes back.  Each condition is on an action with its message's
\* presence, as Next draws it.  The mutant meter_gives_up drops the meter's
\* obligation to resend an event until it is acknowledged.
Fairness ==
    /\ \A e \in Item : /\ WF_vars(Persist(e))
                       /\ WF_vars(Mutant # "meter_gives_up" /\ Send(e))
                       /\ WF_vars(e \in plc /\ Collect(e))
                       /\ WF_vars(Upload(e))
                       /\ WF_vars(e \in uploads /\ Ingest(e))
    /\ \A n \in 1..MaxEvents : WF_vars(n \in acks /\ ReceiveAck(n)) /\ WF_vars(n \in acks /\ Uploaded(n))
    /\ WF_vars(WanBack)

LiveSpec == Spec /\ Fairness

-----------------------------------------------------------------------------
\* S1: every stored event is one the meter detected and signed, unaltered.
S1_EventAuthentic == stored \subseteq detected

\* S2: each event raises at most one alarm (stored once).
S2_AlarmOnce == \A i, j \in 1..Len(raised) : raised[i] = raised[j] => i = j

\* S3: a detected event is in the meter's memory or persisted log, in the
\* gateway's queue, or stored.
S3_EventNoLoss == \A e \in detected : e \in sensed \/ e \in mlog \/ e \in queue \/ e \in stored

\* L1: every detected event is eventually stored.
L1_EventEventuallyStored ==
    \A e \in {i \in Item : i.signed} : (e \in detected) ~> (e \in stored)

=============================================================================
