------------------------------ MODULE System ------------------------------
(***************************************************************************)
(* The composed system: several meters, two gateways run by two metering  *)
(* operators, one head-end database, two suppliers, the PKI and the       *)
(* attacker, in one module.  It puts together what the per-concern        *)
(* modules check alone:                                                    *)
(*                                                                         *)
(*   collection (UC2)   meter -> gateway store-and-forward -> head-end,   *)
(*                      with gateway restarts and WAN outages (nothing    *)
(*                      crosses the WAN while it is down: no upload, no   *)
(*                      fetch, no acknowledgement to a gateway)           *)
(*   tamper events      a meter signs and logs each event it detects and  *)
(*   (UC9)              keeps it until the head-end's signed end-to-end   *)
(*                      acknowledgement; gateways queue events durably,   *)
(*                      a compromised one drops them; the head-end stores *)
(*                      what verifies, each once, one alarm each (Tamper) *)
(*   commands (UC4)     operator-signed, counter-ordered (Commands)       *)
(*   supplier switch    readings of one meter go to A before the switch   *)
(*   (UC6)              and to B from it (Market)                          *)
(*   operator change    a new version of the moving meter's trust list,  *)
(*   (UC7)              signed with the trust-list key, names the new     *)
(*                      operator; the meter installs only a newer version *)
(*                      that verifies, re-keys with the new operator's    *)
(*                      gateway, and the old operator can no longer       *)
(*                      command it, whatever old list is replayed         *)
(*   PKI (UC8)          one meter's signing key is stolen at slot Invalid *)
(*                      and a CRL names that invalidity date (Market);   *)
(*                      supplier A's certificate expires at ExpiryA       *)
(*   transparency log   the head-end logs every item it accepts with the  *)
(*                      log's own time; a reading of a revoked key is     *)
(*                      evidence only if logged before the invalidity     *)
(*                      date (protocol/translog)                           *)
(*                                                                         *)
(* The attacker (Dolev-Yao on PLC and WAN): every command APDU ever sent  *)
(* stays in `net` and can be delivered again, in any order, or never, and *)
(* so does every trust list ever signed; the old operator signs trust     *)
(* lists with its own key; a                                               *)
(* compromised gateway signs commands with its own key; an insider or the *)
(* old operator signs commands for meters it no longer operates; forged   *)
(* readings without a meter signature reach the head-end over a gateway's *)
(* WAN credentials; the thief of the stolen key, from the theft on, signs *)
(* readings for any slot, backdated ones too (the slot is what the key    *)
(* holder claims: nothing in the protocol checks it); a compromised       *)
(* market participant asks for any meter's reading of any slot.  For     *)
(* tamper events, a compromised gateway drops queued events and uploads   *)
(* unsigned ones of any meter, and every upload and acknowledgement can   *)
(* be delivered again.  Gateways restart at any step, and the WAN goes    *)
(* down (MaxOutages times) and comes back at any step.                    *)
(*                                                                         *)
(* Models: System.cfg readings and market, SystemCommands.cfg commands,   *)
(* SystemEvents.cfg tamper events, SystemOutage.cfg a WAN outage among    *)
(* the readings, SystemSlots.cfg A's certificate expiring before the      *)
(* switch; large/System.cfg expiry, switch and invalidity on three slots. *)
(*                                                                         *)
(* Signing time is therefore not the reading's slot but the time the      *)
(* transparency log first recorded it, by the log's clock (proofs/README, *)
(* S8).                                                                    *)
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
    MaxEvents,     \* tamper events all meters detect together in a run
    MaxOutages,    \* WAN outages in a run
    Mutant

Mutants == {"none", "old_operator_commands", "expired_certificate_accepted", "queue_left_behind",
            "claimed_time_evidence", "meter_time_logged", "contract_off_by_one", "reorder",
            "replay_last", "gateway_signed_accepted", "unsigned_accepted", "revocation_voids_evidence",
            "trust_list_rollback", "trust_list_any_signer", "event_unsigned_accepted",
            "event_alarm_replayed", "event_released_at_gateway", "upload_lost_in_outage",
            "expiry_at_contract_end"}
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

\* A trust list: the meter it is for, the operator it names, its version,
\* and whose key signed it (the trust-list key, or an operator's own).
\* @typeAlias: TRUSTLIST = [m: Str, op: Str, ver: Int, by: Str];
TrustList == [m : Meters, op : Operators, ver : 1..2, by : {"trustkey"} \cup Operators]

\* The lists installed at commissioning: version 1 naming the first operator.
FirstList(m) == [m |-> m, op |-> FirstOperator(m), ver |-> 1, by |-> "trustkey"]

\* What an operator can sign with its own key (it holds no trust-list key):
\* the attacker can deliver any of these at any time.
OperatorSigned == {l \in TrustList : l.by \in Operators}

\* A transparency-log entry: an accepted reading and the log's time when it
\* was first appended (append-only; the signed tree heads make the time
\* and the order public).
\* @typeAlias: ENTRY = [r: READING, at: Int];
Entry == [r : Reading, at : Slots]

\* An answer of the head-end to a market participant: who got which
\* meter's slot, and when.
\* @typeAlias: ANSWER = [p: Str, m: Str, t: Int, at: Int];
Answer == [p : Suppliers, m : Meters, t : Slots, at : Slots]

\* A tamper event (UC9): the meter, its number in the meter's own count,
\* and who made it: the meter, which signs it with its key, or a forger
\* (a compromised gateway makes or alters events, but holds no meter key:
\* what it uploads is unsigned).
\* @typeAlias: EVENT = [m: Str, n: Int, by: Str];
Event == [m : Meters, n : 1..MaxEvents, by : {"meter", "forger"}]

\* What a compromised gateway can upload with its WAN credentials: any
\* unsigned event.
ForgedEvents == {e \in Event : e.by = "forger"}

\* The head-end's signed acknowledgement of an event, by meter and number;
\* an alarm names its event the same way.
\* @typeAlias: EVREF = [m: Str, n: Int];
EvRef == [m : Meters, n : 1..MaxEvents]

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
    tlVer,         \* the version of each meter's installed trust list
    \* @type: Str -> Set(Int); @role: meter
    installedVers, \* history: the trust-list versions each meter installed
    \* @type: Set(TRUSTLIST); @role: attacker
    lists,         \* every trust list the trust-list key ever signed
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
    \* @type: Str -> (Str -> Int); @role: headend; @persist
    issued,        \* commands 1..issued[o][m] were signed by operator o for meter m
    \* @type: Set(COMMAND); @role: attacker
    net,           \* every command APDU ever on the medium
    \* @type: Set(READING); @role: headend; @persist
    stored,        \* readings the head-end holds as evidence
    \* @type: Set(ENTRY); @role: headend; @persist
    log,           \* the transparency log: every reading ever accepted, with its log time
    \* @type: Bool; @role: headend
    crlKnown,      \* the CRL with Stolen's invalidity date reached the head-end
    \* @type: Set(ANSWER); @role: headend
    served,        \* history: the head-end's last answer to a participant (none yet: {})
    \* @type: Str -> Int; @role: meter; @persist
    evSeq,         \* the number of each meter's last tamper event
    \* @type: Str -> Set(Int); @role: meter; @persist
    evLog,         \* each meter's signed events the head-end has not acknowledged
    \* @type: Set(EVENT); @role: history
    detected,      \* history: every event a meter detected
    \* @type: Str -> Set(EVENT); @role: gateway; @persist
    evQueue,       \* each gateway's store-and-forward queue of events
    \* @type: Set(EVENT); @role: wan
    evUp,          \* every event a gateway uploaded (the attacker delivers any again)
    \* @type: Set(EVENT); @role: headend; @persist
    evStored,      \* the events the head-end holds
    \* @type: Set(EVREF); @role: wan
    evAcks,        \* the head-end's signed acknowledgements
    \* @type: Seq(EVREF); @role: history
    raised,        \* history: every alarm the head-end raised, in order
    \* @type: Bool; @role: wan
    wanUp,         \* the WAN between the gateways, the participants and the head-end is up
    \* @type: Int; @role: history
    outages        \* history: the WAN outages so far

vars == <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
          stored, log, crlKnown, served, tlVer, installedVers, lists,
          evSeq, evLog, detected, evQueue, evUp, evStored, evAcks, raised, wanUp, outages>>

\* The variables of the operator change, unchanged by every other action.
tlVars == <<tlVer, installedVers, lists>>

\* The variables of tamper events, unchanged by every other action.
evVars == <<evSeq, evLog, detected, evQueue, evUp, evStored, evAcks, raised>>

\* The WAN's state, unchanged by every action but an outage and a recovery.
wanVars == <<wanUp, outages>>

TypeOK ==
    /\ now \in Slots
    /\ taken \in [Meters -> 0..T]
    /\ meterBuf \in [Meters -> SUBSET Slots]
    /\ trusted \in [Meters -> Operators]
    /\ tlVer \in [Meters -> 1..2]
    /\ installedVers \in [Meters -> SUBSET (1..2)]
    /\ lists \subseteq TrustList
    /\ last \in [Meters -> 0..MaxCmds]
    /\ sessions \in [Gateways -> SUBSET Meters]
    /\ queue \in [Gateways -> SUBSET Reading]
    /\ issued \in [Operators -> [Meters -> 0..MaxCmds]]
    /\ net \subseteq Command
    /\ stored \subseteq Reading
    /\ log \subseteq Entry
    /\ crlKnown \in BOOLEAN
    /\ served \subseteq Answer /\ Cardinality(served) <= 1
    /\ evSeq \in [Meters -> 0..MaxEvents]
    /\ evLog \in [Meters -> SUBSET (1..MaxEvents)]
    /\ detected \subseteq Event
    /\ evQueue \in [Gateways -> SUBSET Event]
    /\ evUp \subseteq Event
    /\ evStored \subseteq Event
    /\ evAcks \subseteq EvRef
    /\ raised \in Seq(EvRef)
    /\ wanUp \in BOOLEAN
    /\ outages \in 0..MaxOutages

Init ==
    /\ now = 1
    /\ taken = [m \in Meters |-> 0]
    /\ meterBuf = [m \in Meters |-> {}]
    /\ trusted = [m \in Meters |-> FirstOperator(m)]
    /\ tlVer = [m \in Meters |-> 1]
    /\ installedVers = [m \in Meters |-> {1}]
    /\ lists = {FirstList(m) : m \in Meters}
    /\ last = [m \in Meters |-> 0]
    /\ ran = [m \in Meters |-> <<>>]
    /\ took = [m \in Meters |-> {}]
    /\ sessions = [g \in Gateways |-> {}]
    /\ queue = [g \in Gateways |-> {}]
    /\ issued = [o \in Operators |-> [m \in Meters |-> 0]]
    /\ net = {}
    /\ stored = {}
    /\ log = {}
    /\ crlKnown = FALSE
    /\ served = {}
    /\ evSeq = [m \in Meters |-> 0]
    /\ evLog = [m \in Meters |-> {}]
    /\ detected = {}
    /\ evQueue = [g \in Gateways |-> {}]
    /\ evUp = {}
    /\ evStored = {}
    /\ evAcks = {}
    /\ raised = <<>>
    /\ wanUp = TRUE
    /\ outages = 0

-----------------------------------------------------------------------------
(* Time.                                                                   *)

\* @role: env @event: tick
Tick ==
    /\ now < T
    /\ now' = now + 1
    /\ UNCHANGED <<taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   stored, log, crlKnown, served, tlVars, evVars, wanVars>>

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
    /\ UNCHANGED <<now, trusted, last, ran, sessions, queue, issued, net, stored, log,
                   crlKnown, served, tlVars, evVars, wanVars>>

\* @role: gateway @event: commission(g, m)
\* Commissioning (UC1): mutual authentication with certificates and a key
\* agreement; the meter accepts only the gateway of the operator its trust
\* list names.  Also after a gateway restart (sessions are volatile).
Connect(g, m) ==
    /\ g = GatewayOf(trusted[m])
    /\ m \notin sessions[g]
    /\ sessions' = [sessions EXCEPT ![g] = @ \cup {m}]
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, queue, issued, net,
                   stored, log, crlKnown, served, tlVars, evVars, wanVars>>

\* @role: gateway @event: collect(g, m, t)
\* Over its session with the meter, the gateway queues the reading
\* durably, then acknowledges.
Collect(g, m, t) ==
    /\ m \in sessions[g]
    /\ queue' = [queue EXCEPT ![g] = @ \cup {[m |-> m, t |-> t, by |-> "meter"]}]
    /\ meterBuf' = [meterBuf EXCEPT ![m] = @ \ {t}]
    /\ UNCHANGED <<now, taken, trusted, last, ran, took, sessions, issued, crlKnown,
                   net, stored, log, served, tlVars, evVars, wanVars>>

\* @role: gateway @event: restart(g)
\* The gateway loses its sessions (volatile) and keeps its persisted queue.
Restart(g) ==
    /\ sessions[g] # {}
    /\ sessions' = [sessions EXCEPT ![g] = {}]
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, queue, issued, net,
                   stored, log, crlKnown, served, tlVars, evVars, wanVars>>

\* When the transparency log first recorded a reading (0: never).  The
\* log's clock is the head-end's, never the time the reading claims; the
\* mutant meter_time_logged stamps the entry with the claimed slot.
LogTime(i) == IF \E e \in log : e.r = i THEN (CHOOSE e \in log : e.r = i).at ELSE 0

\* The time a reading accepted now is logged with.
StampOf(i) ==
    IF LogTime(i) # 0 THEN LogTime(i)
    ELSE IF Mutant = "meter_time_logged" THEN i.t ELSE now

\* The head-end's rule for a reading under Stolen's key once the CRL is
\* known: evidence only if the log recorded it before the invalidity date
\* (judged at the time it is, or would be, logged).  The mutant
\* claimed_time_evidence judges the slot the reading claims instead (the
\* protocol before the transparency log: a backdating thief wins).
LoggedBeforeInvalidity(i) ==
    IF Mutant = "claimed_time_evidence" THEN i.t < Invalid ELSE StampOf(i) < Invalid

\* The head-end's check at ingest: the signature verifies under the
\* meter's key (the thief holds it too; a forger does not, except in the
\* mutant unsigned_accepted), and the key was not revoked for it.
Verifies(i) ==
    /\ i.by \in {"meter", "thief"} \/ Mutant = "unsigned_accepted"
    /\ i.m # Stolen \/ ~crlKnown \/ LoggedBeforeInvalidity(i)

\* Accepting a reading stores it as evidence and logs it (once, with the
\* time of its first acceptance).
Accept(i) ==
    /\ stored' = stored \cup {i}
    /\ log' = IF LogTime(i) # 0 THEN log ELSE log \cup {[r |-> i, at |-> StampOf(i)]}

\* @role: headend @event: ingest(g, i)
\* The head-end verifies, stores and logs idempotently and commits before
\* it answers; the gateway drops the item on that answer (a rejection too).
\* Nothing gets through while the WAN is down: the gateway keeps the item
\* (the mutant upload_lost_in_outage takes the failed upload for an answer
\* and drops it).
Upload(g, i) ==
    /\ wanUp \/ Mutant = "upload_lost_in_outage"
    /\ IF wanUp /\ Verifies(i) THEN Accept(i) ELSE UNCHANGED <<stored, log, tlVars>>
    /\ queue' = [queue EXCEPT ![g] = @ \ {i}]
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, issued, net,
                   crlKnown, served, tlVars, evVars, wanVars>>

\* @role: headend @event: ingest_forged(i)
\* A reading the attacker uploads with a compromised gateway's WAN
\* credentials: unsigned, or signed with the stolen key from the theft on,
\* for any slot it likes (backdated too).
IngestForged(i) ==
    /\ wanUp
    /\ i.by = "thief" => i.m = Stolen /\ now >= Invalid
    /\ i.by # "meter"
    /\ Verifies(i)
    /\ Accept(i)
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   crlKnown, served, tlVars, evVars, wanVars>>

-----------------------------------------------------------------------------
(* PKI (UC8) and market (UC6, UC7).                                        *)

\* @role: headend @event: crl
\* The CRL naming Stolen's invalidity date reaches the head-end and is
\* applied in that step: readings of that key the log did not record
\* before the date leave the evidence, earlier ones stay (the mutant
\* revocation_voids_evidence drops them all).
PublishCRL ==
    /\ now >= Invalid /\ ~crlKnown
    /\ crlKnown' = TRUE
    /\ stored' = {i \in stored : i.m # Stolen \/ (LoggedBeforeInvalidity(i) /\ Mutant # "revocation_voids_evidence")}
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   log, served, tlVars, evVars, wanVars>>

\* @role: headend @event: sign_trust_list(m)
\* Operator change (UC7), the order: the holder of the trust-list key
\* signs version 2 of the moving meter's trust list, naming the new
\* operator, and hands it to the medium (the old operator's gateway
\* relays it as a signed command).  Once signed, the attacker can deliver
\* it, or any older list, at any time.
SignTrustList(m) ==
    /\ m = Moving
    /\ \A l \in lists : l.m = m => l.ver < 2
    /\ lists' = lists \cup {[m |-> m, op |-> "o2", ver |-> 2, by |-> "trustkey"]}
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   stored, log, crlKnown, served, tlVer, installedVers, evVars, wanVars>>

\* The meter's check of a trust list: for it, signed with the trust-list
\* key (the mutant trust_list_any_signer takes an operator's own key),
\* and newer than the installed one (trust_list_rollback: any other
\* version).
MayInstall(m, l) ==
    /\ l.m = m
    /\ l.by = "trustkey" \/ Mutant = "trust_list_any_signer"
    /\ IF Mutant = "trust_list_rollback" THEN l.ver # tlVer[m] ELSE l.ver > tlVer[m]

\* @role: meter @event: trust_list(m, l)
\* Operator change (UC7), at the meter: it installs the list durably
\* with the command that carried it; when the list names another
\* operator the meter re-keys with that operator's gateway (keys are
\* never transferred) and starts its command counters.  What the old
\* gateway already queued it still uploads.
InstallTrustList(m, l) ==
    /\ MayInstall(m, l)
    /\ tlVer' = [tlVer EXCEPT ![m] = l.ver]
    /\ installedVers' = [installedVers EXCEPT ![m] = @ \cup {l.ver}]
    /\ trusted' = [trusted EXCEPT ![m] = l.op]
    /\ last' = IF l.op # trusted[m] THEN [last EXCEPT ![m] = 0] ELSE last
    /\ queue' = IF Mutant = "queue_left_behind" /\ l.op # trusted[m]
                 THEN [queue EXCEPT ![GatewayOf(trusted[m])] = {}] ELSE queue
    /\ sessions' = IF l.op # trusted[m]
                    THEN [sessions EXCEPT ![GatewayOf(trusted[m])] = @ \ {m}] ELSE sessions
    /\ UNCHANGED <<now, taken, meterBuf, ran, took, issued, net, stored, log,
                   crlKnown, served, lists, evVars, wanVars>>

\* The head-end's contract database: Moving's readings belong to A before
\* the switch and to B from it; every other meter's to B.  (The mutant
\* contract_off_by_one starts B's contract a slot early.)
Contract(p, m, t) ==
    IF m = Moving THEN IF p = "A" THEN t < Switch
                                  ELSE t >= Switch \/ (Mutant = "contract_off_by_one" /\ t = Switch - 1)
                  ELSE p = "B"

\* A participant's certificate is valid now (A's expires at ExpiryA).  The
\* mutant expiry_at_contract_end checks A's access against the end of its
\* contract (the switch) instead of its certificate's expiry.
CertValid(p) ==
    CASE p # "A" -> TRUE
      [] Mutant = "expired_certificate_accepted" -> TRUE
      [] Mutant = "expiry_at_contract_end" -> now < Switch
      [] OTHER -> now < ExpiryA

\* @role: headend @event: fetch(p, i)
\* Any participant (a compromised one too) asks for any stored reading; the
\* head-end serves it only to a participant whose certificate is valid and
\* whose contract covers that meter and slot.  The answer is recorded for
\* S5 (only the last one: S5 judges each answer in the step it is given).
Fetch(p, i) ==
    /\ wanUp
    /\ CertValid(p)
    /\ Contract(p, i.m, i.t)
    /\ served' = {[p |-> p, m |-> i.m, t |-> i.t, at |-> now]}
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   stored, log, crlKnown, tlVars, evVars, wanVars>>

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
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, stored,
                   log, crlKnown, served, tlVars, evVars, wanVars>>

\* What a compromised gateway can sign with its own key (its role allows
\* no command): the attacker can deliver any of these at any time.
GatewaySigned == {c \in Command : c.by = "gateway"}

\* The meter's check: an operator's signature (the mutant
\* gateway_signed_accepted takes a gateway's too), by the operator its
\* trust list names (the mutant old_operator_commands accepts any
\* operator's), and a counter above the last one run (reorder: any other
\* counter; replay_last: the last one again).
MayRun(m, c) ==
    /\ c.to = m
    /\ c.by = "operator" \/ Mutant = "gateway_signed_accepted"
    /\ c.op = trusted[m] \/ Mutant = "old_operator_commands"
    /\ CASE Mutant = "reorder" -> c.id # last[m]
         [] Mutant = "replay_last" -> c.id >= last[m]
         [] OTHER -> c.id > last[m]

\* @role: meter @event: command(m, c)
Execute(m, c) ==
    /\ MayRun(m, c)
    /\ last' = [last EXCEPT ![m] = c.id]
    /\ ran' = [ran EXCEPT ![m] = Append(@, [op |-> c.op, id |-> c.id, trust |-> trusted[m]])]
    /\ UNCHANGED <<now, taken, meterBuf, trusted, took, sessions, queue, issued, net, stored,
                   log, crlKnown, served, tlVars, evVars, wanVars>>

-----------------------------------------------------------------------------
(* Tamper events (UC9), as Tamper checks them for one meter.               *)

\* @role: meter @event: tamper(m)
\* The sensor fires: the meter numbers the event, signs it and appends it
\* to its persisted log in one step; it keeps it until the head-end's
\* signed acknowledgement.
Detect(m) ==
    /\ Cardinality(detected) < MaxEvents  \* @bound
    /\ evSeq' = [evSeq EXCEPT ![m] = @ + 1]
    /\ evLog' = [evLog EXCEPT ![m] = @ \cup {evSeq[m] + 1}]
    /\ detected' = detected \cup {[m |-> m, n |-> evSeq[m] + 1, by |-> "meter"]}
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   stored, log, crlKnown, served, tlVars, evQueue, evUp, evStored, evAcks,
                   raised, wanVars>>

\* @role: gateway @event: collect_event(g, m, n)
\* Over its session with the meter, the gateway queues an event the meter
\* (re)sends, durably.  The meter still keeps it (the mutant
\* event_released_at_gateway forgets it on the gateway's acknowledgement).
CollectEvent(g, m, n) ==
    /\ m \in sessions[g]
    /\ [m |-> m, n |-> n, by |-> "meter"] \notin evQueue[g]
    /\ evQueue' = [evQueue EXCEPT ![g] = @ \cup {[m |-> m, n |-> n, by |-> "meter"]}]
    /\ evLog' = IF Mutant = "event_released_at_gateway" THEN [evLog EXCEPT ![m] = @ \ {n}] ELSE evLog
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   stored, log, crlKnown, served, tlVars, evSeq, detected, evUp, evStored, evAcks,
                   raised, wanVars>>

\* @role: gateway @event: drop_event(g, e)
\* A compromised gateway drops a queued event (the meter still holds it and
\* sends it again).
DropEvent(g, e) ==
    /\ evQueue' = [evQueue EXCEPT ![g] = @ \ {e}]
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   stored, log, crlKnown, served, tlVars, evSeq, evLog, detected, evUp, evStored,
                   evAcks, raised, wanVars>>

\* @role: gateway @event: upload_event(g, e)
\* The gateway uploads a queued event (again, until acknowledged) while the
\* WAN is up.
UploadEvent(g, e) ==
    /\ wanUp
    /\ e \notin evUp
    /\ evUp' = evUp \cup {e}
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   stored, log, crlKnown, served, tlVars, evSeq, evLog, detected, evQueue, evStored,
                   evAcks, raised, wanVars>>

\* @role: headend @event: ingest_event(e)
\* An upload reaches the head-end over the WAN: a gateway's, one the
\* attacker delivers again, or an unsigned one a compromised gateway makes.
\* The head-end verifies the meter's signature (the mutant
\* event_unsigned_accepted does not), stores the event idempotently,
\* raises its alarm only when it is new (event_alarm_replayed: on every
\* upload), and sends its signed acknowledgement.
IngestEvent(e) ==
    /\ wanUp
    /\ e.by = "meter" \/ Mutant = "event_unsigned_accepted"
    /\ evStored' = evStored \cup {e}
    /\ raised' = IF e \in evStored /\ Mutant # "event_alarm_replayed" THEN raised
                  ELSE Append(raised, [m |-> e.m, n |-> e.n])
    /\ evAcks' = evAcks \cup {[m |-> e.m, n |-> e.n]}
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   stored, log, crlKnown, served, tlVars, evSeq, evLog, detected, evQueue, evUp,
                   wanVars>>

\* @role: gateway @event: event_ack(g, a)
\* The head-end's acknowledgement reaches the gateway over the WAN: only
\* now it drops the event from its queue.
EventAcked(g, a) ==
    /\ wanUp
    /\ \E e \in evQueue[g] : e.m = a.m /\ e.n = a.n
    /\ evQueue' = [evQueue EXCEPT ![g] = {e \in @ : e.m # a.m \/ e.n # a.n}]
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   stored, log, crlKnown, served, tlVars, evSeq, evLog, detected, evUp, evStored,
                   evAcks, raised, wanVars>>

\* @role: meter @event: ack_event(m, a)
\* The head-end's signed acknowledgement of one of its events reaches the
\* meter (relayed by any gateway, or replayed): only now the meter forgets
\* the event.
EventReleased(m, a) ==
    /\ a.m = m /\ a.n \in evLog[m]
    /\ evLog' = [evLog EXCEPT ![m] = @ \ {a.n}]
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   stored, log, crlKnown, served, tlVars, evSeq, detected, evQueue, evUp, evStored,
                   evAcks, raised, wanVars>>

-----------------------------------------------------------------------------
(* The WAN.                                                                *)

\* @role: wan @event: outage
WanDown ==
    /\ wanUp
    /\ outages < MaxOutages  \* @bound
    /\ wanUp' = FALSE
    /\ outages' = outages + 1
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   stored, log, crlKnown, served, tlVars, evVars>>

\* @role: wan @event: recovery
WanBack ==
    /\ ~wanUp
    /\ wanUp' = TRUE
    /\ UNCHANGED <<now, taken, meterBuf, trusted, last, ran, took, sessions, queue, issued, net,
                   stored, log, crlKnown, served, tlVars, evVars, outages>>

Next ==
    \/ Tick
    \/ \E m \in Meters : Take(m)
    \/ \E g \in Gateways, m \in Meters : Connect(g, m)
    \/ \E g \in Gateways : \E m \in sessions[g] : \E t \in meterBuf[m] : Collect(g, m, t)
    \/ \E g \in Gateways : Restart(g)
    \/ \E g \in Gateways : \E i \in queue[g] : Upload(g, i)
    \/ \E i \in Reading : IngestForged(i)
    \/ PublishCRL
    \/ \E m \in Meters : SignTrustList(m)
    \/ \E m \in Meters : \E l \in lists \cup OperatorSigned : InstallTrustList(m, l)
    \/ \E p \in Suppliers : \E i \in stored : Fetch(p, i)
    \/ \E o \in Operators : Issue(o, Moving)
    \/ \E m \in Meters : \E c \in net \cup GatewaySigned : Execute(m, c)
    \/ \E m \in Meters : Detect(m)
    \/ \E g \in Gateways : \E m \in sessions[g] : \E n \in evLog[m] : CollectEvent(g, m, n)
    \/ \E g \in Gateways : \E e \in evQueue[g] : UploadEvent(g, e)
    \/ \E e \in evUp \cup ForgedEvents : IngestEvent(e)
    \/ \E g \in Gateways : \E a \in evAcks : EventAcked(g, a)
    \/ \E m \in Meters : \E a \in evAcks : EventReleased(m, a)
    \/ \E g \in Gateways : \E e \in evQueue[g] : DropEvent(g, e)
    \/ WanDown
    \/ WanBack

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(* Properties (proofs/README.md).  Each is stated over what happened (the  *)
(* readings the meters took, the log's entries, the answers given, the     *)
(* commands run) and the scenario's constants, never through the guard it  *)
(* judges (Verifies, Contract, CertValid, MayRun).                         *)

\* A reading the meter itself took and signed.
Genuine(i) == i.by = "meter" /\ i.t \in took[i.m]

\* S1: every stored reading was signed with that meter's key: one the
\* meter took, or one the holder of the stolen key signed (S8 says how long
\* those last).  A reading nobody holding the key signed is never stored.
S1_Authentic ==
    \A i \in stored : Genuine(i) \/ (i.m = Stolen /\ i.by = "thief")

\* Whether the log recorded a reading before a slot, by the log's time.
LoggedBefore(i, t) == \E e \in log : e.r = i /\ e.at < t

\* S3: a reading taken is at the meter, in a gateway's queue, or stored,
\* across gateway restarts and the operator change -- except a reading of
\* the stolen key the log had not recorded before the invalidity date once
\* the CRL is known: the head-end cannot tell it from the thief's.
S3_NoLoss ==
    \A m \in Meters : \A t \in took[m] :
        LET i == [m |-> m, t |-> t, by |-> "meter"] IN
        (m = Stolen /\ crlKnown /\ ~LoggedBefore(i, Invalid))
        \/ t \in meterBuf[m] \/ \E g \in Gateways : i \in queue[g] \/ i \in stored

\* S5: every answer is a reading of the participant's contract, given while
\* its certificate was valid: A gets the moving meter's slots before the
\* switch and only before its expiry; B the moving meter's slots from the
\* switch on and every other meter's.
S5_ContractOnly ==
    \A a \in served :
        IF a.p = "A" THEN a.m = Moving /\ a.t < Switch /\ a.at < ExpiryA
                     ELSE a.m # Moving \/ a.t >= Switch

\* S6: every command that ran was signed by the operator the meter trusted
\* when it ran, was issued, and ran once.
S6_OnlyTrustedOperator ==
    \A m \in Meters : \A k \in 1..Len(ran[m]) : ran[m][k].op = ran[m][k].trust
S6_OnlyIssued ==
    \A m \in Meters : \A k \in 1..Len(ran[m]) : ran[m][k].id <= issued[ran[m][k].op][m]
S6_AtMostOnce ==
    \A m \in Meters : \A j, k \in 1..Len(ran[m]) :
        j # k => <<ran[m][j].op, ran[m][j].id>> # <<ran[m][k].op, ran[m][k].id>>

\* S6 across the operator change: the trust list a meter holds is the
\* newest it ever installed (no replayed old list brings the old operator
\* back) and one the trust-list key signed (no operator names itself).
S6_TrustListNewest ==
    \A m \in Meters : \A v \in installedVers[m] : v <= tlVer[m]
S6_TrustListAuthentic ==
    \A m \in Meters : [m |-> m, op |-> trusted[m], ver |-> tlVer[m], by |-> "trustkey"] \in lists

\* S8: once the CRL is known, nothing the thief signed is evidence, whatever
\* slot it claims; and a genuine reading the log recorded before the
\* invalidity date is never voided (neither is any reading of another key).
S8_RevocationStopsNewData ==
    crlKnown => \A i \in stored : i.by # "thief"
S8_EvidenceKept ==
    \A e \in log : Genuine(e.r) /\ (e.r.m # Stolen \/ e.at < Invalid) => e.r \in stored

\* S1 for tamper events: every event the head-end stores is, field for
\* field, one a meter detected and signed.
S1_EventAuthentic == evStored \subseteq detected

\* S2 for tamper events: each event raises at most one alarm, whatever is
\* uploaded again (a gateway's retry, a replay).
S2_AlarmOnce == \A j, k \in 1..Len(raised) : raised[j] = raised[k] => j = k

\* S3 for tamper events: a detected event is in its meter's log, in a
\* gateway's queue or stored, across gateway restarts, outages, drops and
\* the operator change.
S3_EventNoLoss ==
    \A e \in detected : e.n \in evLog[e.m] \/ (\E g \in Gateways : e \in evQueue[g]) \/ e \in evStored

\* S9: each operator's commands run in the order issued.
S9_InOrder ==
    \A m \in Meters : \A k \in 1..Len(ran[m]) - 1 :
        ran[m][k].op = ran[m][k + 1].op => ran[m][k].id < ran[m][k + 1].id

=============================================================================
