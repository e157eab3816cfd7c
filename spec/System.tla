------------------------------ MODULE System ------------------------------
(***************************************************************************)
(* The composed system: several meters, two gateways run by two metering  *)
(* operators, one head-end database, two suppliers, the PKI and the       *)
(* attacker, in one module.  It puts together what the per-concern        *)
(* modules check alone:                                                    *)
(*                                                                         *)
(*   collection (UC2)   meter -> gateway store-and-forward -> head-end,   *)
(*                      with WAN outages and gateway restarts (Collection)*)
(*   commands (UC4)     operator-signed, counter-ordered (Commands)       *)
(*   supplier switch    readings of one meter go to A before the switch   *)
(*   (UC6)              and to B from it (Market)                          *)
(*   operator change    the moving meter's operator-signed trust list     *)
(*   (UC7)              names the new operator; the meter re-keys with    *)
(*                      the new operator's gateway and the old operator   *)
(*                      can no longer command it                          *)
(*   PKI (UC8)          one meter's signing key is stolen at slot Invalid *)
(*                      and a CRL names that invalidity date (Market);   *)
(*                      supplier A's certificate expires at ExpiryA       *)
(*                                                                         *)
(* The attacker (Dolev-Yao on PLC and WAN): every command APDU ever sent  *)
(* stays in `net` and can be delivered again, in any order, or never; a   *)
(* compromised gateway signs commands with its own key; an insider or the *)
(* old operator signs commands for meters it no longer operates; forged   *)
(* readings without a meter signature reach the head-end over a gateway's *)
(* WAN credentials; the thief of the stolen key signs readings for any    *)
(* slot from the theft on; a compromised market participant asks for any  *)
(* meter's reading of any slot.  Gateways restart at any step.            *)
(*                                                                         *)
(* Signing time is the slot a reading was taken in, as the gateway stamps  *)
(* it at collection and the head-end at ingest: the thief cannot backdate *)
(* (proofs/README.md, S8).                                                 *)
(*                                                                         *)
(* Plain TLA+ without INSTANCE, so that our checker and TLC both run it.   *)
(***************************************************************************)
\* @compose: the roles run the machines of the per-concern modules above;
\* this module is model-checked (and its steps drawn as sequence charts),
\* never generated (spec/README.md, "Conventions for the generator").
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    Meters,        \* e.g. {"m1", "m2", "m3"}
    Moving,        \* the meter whose operator changes (UC7) and whose supplier switches (UC6)
    Stolen,        \* the meter whose signing key is stolen (UC8)
    T,             \* time slots 1..T
    Switch,        \* supplier B takes over Moving's readings from this slot on
    Invalid,       \* Stolen's key is compromised from this slot on (CRL invalidity date)
    ExpiryA,       \* supplier A's certificate is valid before this slot
    MaxReadings,   \* readings all meters take together in a run
    MaxCmds,       \* commands each operator signs for the moving meter
    Mutant

Mutants == {"none", "old_operator_commands", "expired_certificate_accepted", "queue_left_behind"}
ASSUME /\ Mutant \in Mutants
       /\ Moving \in Meters /\ Stolen \in Meters /\ Moving # Stolen
       /\ Switch \in 2..T /\ Invalid \in 2..T /\ ExpiryA \in 2..T

Slots == 1..T
Operators == {"o1", "o2"}
Gateways == {"g1", "g2"}
Suppliers == {"A", "B"}

\* Each operator runs one gateway.
GatewayOf(o) == IF o = "o1" THEN "g1" ELSE "g2"

\* The moving meter starts with operator o1, every other meter with o2.
FirstOperator(m) == IF m = Moving THEN "o1" ELSE "o2"

\* A reading: meter, slot, and who signed it with the meter's key
\* ("meter", the thief of a stolen key, or nobody: "forger").
\* @typeAlias: READING = [m: Str, t: Int, by: Str];
Reading == [m : Meters, t : Slots, by : {"meter", "thief", "forger"}]

\* A command APDU: target meter, counter, the operator it names, and whose
\* key signed it (an operator's, or a compromised gateway's).
\* @typeAlias: COMMAND = [to: Str, op: Str, id: Int, by: Str];
Command == [to : Meters, op : Operators, id : 1..MaxCmds, by : {"operator", "gateway"}]

VARIABLES
    \* @type: Int; @role: env
    now,           \* the current slot (the gateways' and head-end's clock)
    \* @type: Int -> Int; @role: meter; @persist
    taken,         \* last slot each meter measured
    \* @type: Str -> Set(Int); @role: meter; @persist
    meterBuf,      \* signed readings not yet acknowledged by the gateway
    \* @type: Str -> Str; @role: meter; @persist
    trusted,       \* the operator each meter's trust list names
    \* @type: Str -> Int; @role: meter; @persist
    last,          \* counter of the last command run, per meter (per operator key)
    \* @type: Str -> Seq([op: Str, id: Int, trust: Str]); @role: meter
    ran,           \* history: the commands each meter ran, in order, with its trust at the time
    \* @type: Str -> Set(Int); @role: meter
    took,          \* history: the slots each meter measured
    \* @type: Str -> Set(Str); @role: gateway
    sessions,      \* meters each gateway holds a session with (volatile)
    \* @type: Str -> Set(READING); @role: gateway; @persist
    queue,         \* each gateway's store-and-forward queue
    \* @type: Bool; @role: wan
    wanUp,
    \* @type: Str -> (Str -> Int); @role: headend; @persist
    issued,        \* commands 1..issued[o][m] were signed by operator o for meter m
    \* @type: Set(COMMAND); @role: attacker
    net,           \* every command APDU ever on the medium
    \* @type: Set(READING); @role: headend; @persist
    stored,        \* readings the head-end holds as evidence
    \* @type: Set(READING); @role: headend
    everStored,    \* history
    \* @type: Bool; @role: headend
    crlKnown,      \* the CRL with Stolen's invalidity date reached the head-end
    \* @type: Bool; @role: headend
    leaked         \* history: a reading was served outside a valid contract

vars == <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, wanUp, issued, net,
          stored, everStored, crlKnown, leaked>>

TypeOK ==
    /\ now \in Slots
    /\ taken \in [Meters -> 0..T]
    /\ meterBuf \in [Meters -> SUBSET Slots]
    /\ trusted \in [Meters -> Operators]
    /\ last \in [Meters -> 0..MaxCmds]
    /\ sessions \in [Gateways -> SUBSET Meters]
    /\ queue \in [Gateways -> SUBSET Reading]
    /\ wanUp \in BOOLEAN
    /\ issued \in [Operators -> [Meters -> 0..MaxCmds]]
    /\ net \subseteq Command
    /\ stored \subseteq Reading
    /\ crlKnown \in BOOLEAN

Init ==
    /\ now = 1
    /\ taken = [m \in Meters |-> 0]
    /\ meterBuf = [m \in Meters |-> {}]
    /\ trusted = [m \in Meters |-> FirstOperator(m)]
    /\ last = [m \in Meters |-> 0]
    /\ ran = [m \in Meters |-> <<>>]
    /\ took = [m \in Meters |-> {}]
    /\ sessions = [g \in Gateways |-> {}]
    /\ queue = [g \in Gateways |-> {}]
    /\ wanUp = TRUE
    /\ issued = [o \in Operators |-> [m \in Meters |-> 0]]
    /\ net = {}
    /\ stored = {}
    /\ everStored = {}
    /\ crlKnown = FALSE
    /\ leaked = FALSE

-----------------------------------------------------------------------------
(* Time and the WAN.                                                       *)

\* @role: env @event: tick
Tick ==
    /\ now < T
    /\ now' = now + 1
    /\ UNCHANGED <<taken, meterBuf, trusted, last, ran, took, sessions, queue, wanUp, issued, net,
                   stored, everStored, crlKnown, leaked>>

\* @role: wan @event: outage
WanDown ==
    /\ wanUp
    /\ wanUp' = FALSE
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   stored, everStored, crlKnown, leaked>>

\* @role: wan @event: recovery
WanBack ==
    /\ ~wanUp
    /\ wanUp' = TRUE
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   stored, everStored, crlKnown, leaked>>

-----------------------------------------------------------------------------
(* Collection (UC2).                                                       *)

\* @role: meter @event: measure(m)
\* The meter signs the current slot's register reading and keeps it until
\* its gateway's durable acknowledgement.
Take(m) ==
    /\ taken[m] < now
    /\ Cardinality({r \in Meters \X Slots : r[2] \in took[r[1]]}) < MaxReadings
    /\ taken' = [taken EXCEPT ![m] = now]
    /\ meterBuf' = [meterBuf EXCEPT ![m] = @ \cup {now}]
    /\ took' = [took EXCEPT ![m] = @ \cup {now}]
    /\ UNCHANGED <<now, trusted, last, ran, sessions, queue, wanUp, issued, net, stored, everStored,
                   crlKnown, leaked>>

\* @role: gateway @event: commission(g, m)
\* Commissioning (UC1): mutual authentication with certificates and a key
\* agreement; the meter accepts only the gateway of the operator its trust
\* list names.  Also after a gateway restart (sessions are volatile).
Connect(g, m) ==
    /\ g = GatewayOf(trusted[m])
    /\ m \notin sessions[g]
    /\ sessions' = [sessions EXCEPT ![g] = @ \cup {m}]
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, queue, wanUp, issued, net,
                   stored, everStored, crlKnown, leaked>>

\* @role: gateway @event: collect(g, m, t)
\* Over its session with the meter, the gateway queues the reading
\* durably, then acknowledges.
Collect(g, m, t) ==
    /\ m \in sessions[g]
    /\ queue' = [queue EXCEPT ![g] = @ \cup {[m |-> m, t |-> t, by |-> "meter"]}]
    /\ meterBuf' = [meterBuf EXCEPT ![m] = @ \ {t}]
    /\ UNCHANGED <<now, taken, trusted, last, ran, took, sessions, wanUp, issued, crlKnown,
                   net, stored, everStored, leaked>>

\* @role: gateway @event: restart(g)
\* The gateway loses its sessions (volatile) and keeps its persisted queue.
Restart(g) ==
    /\ sessions[g] # {}
    /\ sessions' = [sessions EXCEPT ![g] = {}]
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, queue, wanUp, issued, net,
                   stored, everStored, crlKnown, leaked>>

\* Status of the signing certificate at signing time: the meter's key
\* verifies the signature, and it was valid then, or no CRL says otherwise
\* yet.
ValidAtSigning(i) == i.m # Stolen \/ ~crlKnown \/ i.t < Invalid

Verifies(i) == i.by \in {"meter", "thief"} /\ ValidAtSigning(i)

\* @role: headend @event: ingest(g, i)
\* The head-end verifies, stores idempotently and commits before it
\* answers; the gateway drops the item on that answer (a rejection too).
Upload(g, i) ==
    /\ wanUp
    /\ stored' = IF Verifies(i) THEN stored \cup {i} ELSE stored
    /\ everStored' = IF Verifies(i) THEN everStored \cup {i} ELSE everStored
    /\ queue' = [queue EXCEPT ![g] = @ \ {i}]
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, wanUp, issued, net,
                   crlKnown, leaked>>

\* @role: headend @event: ingest_forged(i)
\* A reading the attacker uploads with a compromised gateway's WAN
\* credentials: unsigned, or signed with the stolen key from the theft on.
IngestForged(i) ==
    /\ i.by = "thief" => i.m = Stolen /\ Invalid <= i.t /\ i.t <= now
    /\ i.by # "meter"
    /\ Verifies(i)
    /\ stored' = stored \cup {i}
    /\ everStored' = everStored \cup {i}
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, wanUp, issued, net,
                   crlKnown, leaked>>

-----------------------------------------------------------------------------
(* PKI (UC8) and market (UC6, UC7).                                        *)

\* @role: headend @event: crl
\* The CRL naming Stolen's invalidity date reaches the head-end and is
\* applied in that step: readings signed at or after the date leave the
\* evidence, earlier ones stay.
PublishCRL ==
    /\ now >= Invalid /\ ~crlKnown
    /\ crlKnown' = TRUE
    /\ stored' = {i \in stored : i.m # Stolen \/ i.t < Invalid}
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, wanUp, issued, net,
                   everStored, leaked>>

\* @role: meter @event: trust_list(m)
\* Operator change (UC7): the old operator, through its gateway, installs
\* the trust list naming the new operator; the meter re-keys with the new
\* operator's gateway (keys are never transferred) and starts the new
\* operator's command counters.  What the old gateway already queued it
\* still uploads.
OperatorChange(m) ==
    /\ m = Moving
    /\ trusted[m] = "o1"
    /\ trusted' = [trusted EXCEPT ![m] = "o2"]
    /\ last' = [last EXCEPT ![m] = 0]
    /\ queue' = IF Mutant = "queue_left_behind" THEN [queue EXCEPT !["g1"] = {}] ELSE queue
    /\ sessions' = [sessions EXCEPT !["g1"] = @ \ {m}]
    /\ UNCHANGED <<now, taken, meterBuf, ran, took, wanUp, issued, net, stored, everStored,
                   crlKnown, leaked>>

\* Contracts: Moving's readings belong to A before the switch and to B from
\* it; every other meter's to B.
Contract(p, m, t) ==
    IF m = Moving THEN IF p = "A" THEN t < Switch ELSE t >= Switch
                  ELSE p = "B"

\* A participant's certificate is valid now (A's expires at ExpiryA).
CertValid(p) == p # "A" \/ now < ExpiryA \/ Mutant = "expired_certificate_accepted"

\* S5 restated, independently of the head-end's guard: the participant's
\* contract covers the reading and its certificate is valid now.
Entitled(p, i) == Contract(p, i.m, i.t) /\ (p = "A" => now < ExpiryA)

\* @role: headend @event: fetch(p, i)
\* Any participant (a compromised one too) asks for any stored reading; the
\* head-end serves it only to a participant whose certificate is valid and
\* whose contract covers that meter and slot.
Fetch(p, i) ==
    /\ CertValid(p)
    /\ Contract(p, i.m, i.t)
    /\ leaked' = (leaked \/ ~Entitled(p, i))
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, wanUp, issued, net,
                   stored, everStored, crlKnown>>

-----------------------------------------------------------------------------
(* Commands (UC4).                                                         *)

\* @role: headend @event: issue(o, m)
\* An operator signs its next command for a meter and sends it through its
\* gateway; any operator may try, also for a meter it does not (or no
\* longer) operate: the meter decides.
Issue(o, m) ==
    /\ issued[o][m] < MaxCmds
    /\ issued' = [issued EXCEPT ![o][m] = @ + 1]
    /\ net' = net \cup {[to |-> m, op |-> o, id |-> issued[o][m] + 1, by |-> "operator"]}
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, wanUp, stored,
                   everStored, crlKnown, leaked>>

\* What a compromised gateway can sign with its own key (its role allows
\* no command): the attacker can deliver any of these at any time.
GatewaySigned == {c \in Command : c.by = "gateway"}

\* The meter's check: an operator's signature, by the operator its trust
\* list names (the mutant accepts any operator's), and a counter above the
\* last one run.
MayRun(m, c) ==
    /\ c.to = m
    /\ c.by = "operator"
    /\ c.op = trusted[m] \/ Mutant = "old_operator_commands"
    /\ c.id > last[m]

\* @role: meter @event: command(m, c)
Execute(m, c) ==
    /\ MayRun(m, c)
    /\ last' = [last EXCEPT ![m] = c.id]
    /\ ran' = [ran EXCEPT ![m] = Append(@, [op |-> c.op, id |-> c.id, trust |-> trusted[m]])]
    /\ UNCHANGED <<now, taken, meterBuf, trusted, took, sessions, queue, wanUp, issued, net, stored,
                   everStored, crlKnown, leaked>>

Next ==
    \/ Tick \/ WanDown \/ WanBack
    \/ \E m \in Meters : Take(m)
    \/ \E g \in Gateways, m \in Meters : Connect(g, m)
    \/ \E g \in Gateways : \E m \in sessions[g] : \E t \in meterBuf[m] : Collect(g, m, t)
    \/ \E g \in Gateways : Restart(g)
    \/ \E g \in Gateways : \E i \in queue[g] : Upload(g, i)
    \/ \E i \in Reading : IngestForged(i)
    \/ PublishCRL
    \/ \E m \in Meters : OperatorChange(m)
    \/ \E p \in Suppliers : \E i \in stored : Fetch(p, i)
    \/ \E o \in Operators : Issue(o, Moving)
    \/ \E m \in Meters : \E c \in net \cup GatewaySigned : Execute(m, c)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(* Properties (proofs/README.md).                                          *)

\* S1: every stored reading carries a signature of that meter's key (the
\* thief's only from the theft on, and only until the CRL).
S1_Authentic == \A i \in stored : i.by \in {"meter", "thief"}

\* S3: a reading taken is at the meter, in a gateway's queue, or stored,
\* across outages, restarts and the operator change -- except a reading of
\* the stolen key signed at or after its invalidity date, which the CRL
\* rightly rejects.
S3_NoLoss ==
    \A m \in Meters : \A t \in took[m] :
        LET i == [m |-> m, t |-> t, by |-> "meter"] IN
        (m = Stolen /\ t >= Invalid)
        \/ t \in meterBuf[m] \/ \E g \in Gateways : i \in queue[g] \/ i \in stored

\* S5: a participant is served only readings of its contract, and only while
\* its certificate is valid (Entitled, above Fetch).
S5_ContractOnly == ~leaked

\* S6: every command that ran was signed by the operator the meter trusted
\* when it ran, was issued, and ran once.
S6_OnlyTrustedOperator ==
    \A m \in Meters : \A k \in 1..Len(ran[m]) : ran[m][k].op = ran[m][k].trust
S6_OnlyIssued ==
    \A m \in Meters : \A k \in 1..Len(ran[m]) : ran[m][k].id <= issued[ran[m][k].op][m]
S6_AtMostOnce ==
    \A m \in Meters : \A j, k \in 1..Len(ran[m]) :
        j # k => <<ran[m][j].op, ran[m][j].id>> # <<ran[m][k].op, ran[m][k].id>>

\* S8: once the CRL is known nothing signed with the stolen key at or after
\* its invalidity date is evidence; nothing signed before it is ever voided.
S8_RevocationStopsNewData ==
    crlKnown => \A i \in stored : i.m = Stolen => i.t < Invalid
S8_EvidenceKept ==
    \A i \in everStored : ValidAtSigning(i) => i \in stored

\* S9: each operator's commands run in the order issued.
S9_InOrder ==
    \A m \in Meters : \A k \in 1..Len(ran[m]) - 1 :
        ran[m][k].op = ran[m][k + 1].op => ran[m][k].id < ran[m][k + 1].id

=============================================================================
