------------------------------- MODULE Market -------------------------------
(***************************************************************************)
(* The liberalised market at the head-end (UC6, UC7, UC8, UC10): one      *)
(* meter's readings over time slots 1..T, two suppliers with a switch at  *)
(* slot Switch, participants asking for any slot, and the meter's signing *)
(* key compromised at slot Invalid: the CRL, published later, names that  *)
(* invalidity date.  From then on the attacker signs readings with the     *)
(* stolen key, for any slot it likes, backdated ones too: the slot a       *)
(* reading claims is the key holder's word.  The head-end therefore judges *)
(* a reading's certificate status by the time its transparency log first  *)
(* recorded it (protocol/translog: append-only, signed tree heads), never  *)
(* by the slot the reading claims: revocation stops everything logged from *)
(* the invalidity date on and keeps the evidence logged before it.        *)
(*                                                                         *)
(* Properties: S5 (a participant is served exactly the readings of its    *)
(* contract period) and S8 (once the CRL is known nothing the thief signed *)
(* is evidence; no genuine reading logged before the invalidity date is    *)
(* ever voided).  The CRL is applied in the step it arrives in: from then *)
(* on the evidence (Evidence) is what the log recorded before the          *)
(* invalidity date; the head-end keeps every reading it accepted (its      *)
(* database, a @store) and judges it by the CRL whenever it is read.       *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

CONSTANTS
    T,             \* time slots
    Switch,        \* supplier B takes over at this slot
    Invalid,       \* the meter key is compromised from this slot on
    Mutant

Mutants == {"none", "old_supplier_keeps_access", "crl_ignored", "revocation_voids_evidence",
            "claimed_time_evidence", "serve_after_invalidity"}
ASSUME Mutant \in Mutants /\ Switch \in 2..T /\ Invalid \in 2..T

Suppliers == {"A", "B"}
Slots == 1..T

\* A reading: slot, and who signed it with the meter's key.
\* @typeAlias: READING = [t: Int, by: Str];
\* @type: Set(READING);
Reading == [t : Slots, by : {"meter", "thief"}]

\* Evidence: a reading and the time the transparency log recorded it, by
\* the log's clock (the signed tree head that first includes it).
\* @typeAlias: ENTRY = [t: Int, by: Str, at: Int];
\* @type: Set(ENTRY);
Entries == [t : Slots, by : {"meter", "thief"}, at : Slots]

VARIABLES
    \* @type: Int; @role: headend
    now,           \* the head-end's clock (slots)
    \* @type: Bool; @role: headend; @persist
    crlKnown,      \* the CRL with the invalidity date reached the head-end
    \* @type: Set(ENTRY); @role: headend; @persist; @store
    accepted,      \* readings the head-end accepted, with their log time (its database)
    \* @type: Set(READING); @role: headend; @persist; @store
    logged,        \* the transparency log's content: every reading ever accepted (append-only)
    \* @type: Set(ENTRY); @role: history
    log,           \* history: every accepted reading with its log time
    \* @type: Set(<<Str, Int>>); @role: headend; @persist; @store
    served,        \* <<supplier, slot>> the head-end handed out (its audit log)
    \* @type: Bool; @role: headend
    switched,      \* the supplier switch has been recorded
    \* @type: Set(ENTRY); @role: history
    servedRevoked  \* history: the readings handed out as evidence once the CRL was known

vars == <<now, crlKnown, accepted, logged, log, served, switched, servedRevoked>>

TypeOK ==
    /\ now \in Slots
    /\ crlKnown \in BOOLEAN
    /\ accepted \subseteq [t : Slots, by : {"meter", "thief"}, at : Slots]
    /\ logged \subseteq Reading
    /\ log \subseteq [t : Slots, by : {"meter", "thief"}, at : Slots]
    /\ served \subseteq Suppliers \X Slots
    /\ servedRevoked \subseteq Entries

Init ==
    /\ now = 1
    /\ crlKnown = FALSE
    /\ accepted = {}
    /\ logged = {}
    /\ log = {}
    /\ served = {}
    /\ switched = FALSE
    /\ servedRevoked = {}

\* @role: headend @event: tick
\* The head-end's clock reaches the next slot; from the switch slot on the
\* switch is recorded (the head-end's contract database).
Tick ==
    /\ now < T  \* @bound
    /\ now' = now + 1
    /\ switched' = (switched \/ now + 1 >= Switch)
    /\ UNCHANGED <<crlKnown, accepted, logged, log, served, servedRevoked>>

\* Whether the log recorded a piece of evidence before the invalidity date
\* (by the log's time; the mutant claimed_time_evidence believes the slot
\* the reading claims instead).
LoggedBeforeInvalidity(e) ==
    \/ e.at < Invalid
    \/ Mutant = "claimed_time_evidence" /\ e.t < Invalid

\* The evidence: what the head-end accepted, judged by the CRL once it is
\* known; every reading the log did not record before the invalidity date
\* is no evidence, everything it recorded before is.
Evidence ==
    IF ~crlKnown THEN accepted
    ELSE CASE Mutant = "revocation_voids_evidence" -> {}
           [] Mutant = "crl_ignored" -> accepted
           [] OTHER -> {e \in accepted : LoggedBeforeInvalidity(e)}

\* @role: headend @event: crl
\* The CRL reaches the head-end and is applied at once (Evidence reads it).
PublishCRL ==
    /\ now >= Invalid /\ ~crlKnown
    /\ crlKnown' = TRUE
    /\ UNCHANGED <<now, accepted, logged, log, served, switched, servedRevoked>>

\* Status at signing time, the time the log records a reading accepted
\* now: valid if that is before the invalidity date, or the CRL is not
\* known yet.  (The thief's readings before the CRL arrives are accepted:
\* nobody can tell them apart yet; the CRL then removes exactly those
\* logged from the invalidity date on.)  The mutant claimed_time_evidence
\* takes the slot the reading claims instead.
ValidAtSigning(r) ==
    \/ Mutant = "crl_ignored"
    \/ ~crlKnown
    \/ now < Invalid
    \/ Mutant = "claimed_time_evidence" /\ r.t < Invalid

\* @role: headend @event: ingest(r)
\* A reading signed with the meter's key: by the meter, or, from the
\* theft on, by the thief, for any slot up to now (the head-end refuses a
\* reading dated in its future).  Accepted, it is appended to the log and
\* kept as evidence with the log's time; the log holds a reading once (a
\* duplicate is answered as already stored and changes nothing).
Ingest(r) ==
    /\ r.t <= now
    /\ r.by = "thief" => now >= Invalid     \* the key is stolen at Invalid
    /\ r \notin logged
    /\ ValidAtSigning(r)
    /\ accepted' = accepted \cup {[t |-> r.t, by |-> r.by, at |-> now]}
    /\ logged' = logged \cup {r}
    /\ log' = log \cup {[t |-> r.t, by |-> r.by, at |-> now]}
    /\ UNCHANGED <<now, crlKnown, served, switched, servedRevoked>>

\* Contracts: A until the switch, B from it (the old contract ends when
\* the switch is recorded; the mutant forgets to end it).
Entitled(p, t) ==
    IF p = "A" THEN t < Switch \/ (Mutant = "old_supplier_keeps_access" /\ TRUE)
               ELSE t >= Switch /\ switched

\* @role: headend @event: fetch(p, t)
Fetch(p, t) ==
    /\ t <= now
    /\ Entitled(p, t)
    /\ served' = served \cup {<<p, t>>}
    /\ UNCHANGED <<now, crlKnown, accepted, logged, log, switched, servedRevoked>>

\* Whether the head-end may hand out a stored reading as evidence now: any
\* before the CRL is known; from then on only what the log recorded before
\* the invalidity date, including readings stored before the CRL arrived
\* (the mutant serve_after_invalidity serves whatever it stored).
Evidential(e) ==
    \/ ~crlKnown
    \/ LoggedBeforeInvalidity(e)
    \/ Mutant = "serve_after_invalidity"

\* @role: headend @event: serve(e)
\* A stored reading handed out as evidence (a fetch's intervals, an
\* inclusion proof asked for): the head-end reads it, with its log time,
\* from its database and serves it only if it is evidence now.
Serve(e) ==
    /\ e \in accepted
    /\ Evidential(e)
    /\ servedRevoked' = IF crlKnown THEN servedRevoked \cup {e} ELSE servedRevoked
    /\ UNCHANGED <<now, crlKnown, accepted, logged, log, served, switched>>

Next ==
    \/ Tick
    \/ PublishCRL
    \/ \E r \in Reading : Ingest(r)
    \/ \E p \in Suppliers, t \in Slots : Fetch(p, t)
    \/ \E e \in Entries : Serve(e)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
\* S5: every answer is a slot of the supplier's contract: A's before the
\* switch, B's from it (stated over the answers given, not through the
\* head-end's Entitled).
S5_ContractOnly ==
    \A s \in served : (s[1] = "A" /\ s[2] < Switch) \/ (s[1] = "B" /\ s[2] >= Switch)

\* S8a: once the CRL is known, nothing the thief signed is evidence,
\* whatever slot it claims (neither kept from before nor ingested since).
S8_RevocationStopsNewData ==
    crlKnown => \A e \in Evidence : e.by = "meter"

\* S8b: a genuine reading the log recorded before the invalidity date stays
\* accepted (revocation never destroys evidence).
S8_EvidenceKept ==
    \A e \in log : e.by = "meter" /\ e.at < Invalid => e \in Evidence

\* S8c: once the CRL is known, nothing the thief signed is handed out as
\* evidence, whenever it was stored (stated over what was served and who
\* signed it, not through Evidential's log-time rule).
S8_NoRevokedServed ==
    \A e \in servedRevoked : e.by = "meter"

=============================================================================
