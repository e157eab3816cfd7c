------------------------------- MODULE Market -------------------------------
(***************************************************************************)
(* The liberalised market at the head-end (UC6, UC7, UC8, UC10): one      *)
(* meter's readings over time slots 1..T, two suppliers with a switch at  *)
(* slot Switch, participants asking for any slot, the meter's signing key *)
(* rotated at slot Rotate (key k2 certified, k1 retired) and the meter's  *)
(* keys compromised at slot Invalid: the CRL, published later, names that *)
(* invalidity date for every key the meter held then.  From then on      *)
(* whoever holds those keys (a thief, or the meter itself compromised)    *)
(* signs readings with them for any slot it likes, backdated ones too,    *)
(* and with any counter, reused or skipped: the slot and the counter a    *)
(* reading claims are the key holder's word.  The head-end therefore      *)
(* judges a reading's key by the time its transparency log first recorded *)
(* it (protocol/translog: append-only, signed tree heads), never by the   *)
(* slot the reading claims: the old key counts for what the log recorded  *)
(* before its retirement, the new one from its certification, and         *)
(* revocation stops everything logged from the invalidity date on and     *)
(* keeps the evidence logged before it.  It stores at most one reading    *)
(* per counter: the first; a different reading with a counter already     *)
(* used is refused and flagged.  A customer or court verifies an exported *)
(* reading offline (OfflineAccepts: the root, the certificates, the CRL,  *)
(* the reading with its inclusion proof into a signed tree head) by the   *)
(* same rule, without the head-end.                                       *)
(*                                                                         *)
(* Properties: S5 (a participant is served exactly the readings of its    *)
(* contract period), S8 (once the CRL is known nothing the thief signed   *)
(* is evidence; no genuine reading logged before the invalidity date, and *)
(* under the old key before its retirement, is ever voided; nothing the   *)
(* old key signed and first logged after its retirement is evidence; the  *)
(* offline verifier accepts exactly that), S1 (one reading per counter,   *)
(* the first one kept).  The CRL is applied in the step it arrives in:    *)
(* from then on the evidence (Evidence) is what the log recorded before   *)
(* the invalidity date; the head-end keeps every reading it accepted (its *)
(* database, a @store) and judges it by the CRL whenever it is read.      *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

CONSTANTS
    T,             \* time slots
    Switch,        \* supplier B takes over at this slot
    Invalid,       \* the meter's keys are compromised from this slot on
    Rotate,        \* key k2 is certified and k1 retired at this slot (T+1: no rotation)
    NC,            \* counters 1..NC (the meter numbers its reading of slot t with t)
    Mutant

Mutants == {"none", "old_supplier_keeps_access", "crl_ignored", "revocation_voids_evidence",
            "claimed_time_evidence", "serve_after_invalidity", "rotation_voids_old",
            "old_key_after_rotation", "verify_trusts_claimed_time", "verify_voids_revoked_key",
            "counter_reuse_overwrites", "counter_reuse_accepted"}
ASSUME Mutant \in Mutants /\ Switch \in 2..T /\ Invalid \in 2..T /\ Rotate \in 2..T+1 /\ NC >= 1

Suppliers == {"A", "B"}
Slots == 1..T
Keys == {"k1", "k2"}
Counters == 1..NC

\* The key the meter signs a slot's reading with: k1 before the rotation,
\* k2 from it.
KeyAt(t) == IF t < Rotate THEN "k1" ELSE "k2"

\* The keys the meter holds at the theft, which the CRL names invalid from
\* the invalidity date: k1, and k2 if it was certified by then.
Stolen(k) == k = "k1" \/ Rotate <= Invalid

\* A reading: slot, who signed it, with which of the meter's keys, and the
\* counter it carries.
\* @typeAlias: READING = [t: Int, by: Str, k: Str, c: Int];
\* @type: Set(READING);
Reading == [t : Slots, by : {"meter", "thief"}, k : Keys, c : Counters]

\* Evidence: a reading and the time the transparency log recorded it, by
\* the log's clock (the signed tree head that first includes it).
\* @typeAlias: ENTRY = [t: Int, by: Str, k: Str, c: Int, at: Int];
\* @type: Set(ENTRY);
Entries == [t : Slots, by : {"meter", "thief"}, k : Keys, c : Counters, at : Slots]

\* An entry's reading (without the log time).
ReadingOf(e) == [t |-> e.t, by |-> e.by, k |-> e.k, c |-> e.c]

VARIABLES
    \* @type: Int; @role: headend
    now,           \* the head-end's clock (slots)
    \* @type: Bool; @role: headend; @persist
    crlKnown,      \* the CRL with the invalidity date reached the head-end
    \* @type: Set(ENTRY); @role: headend; @persist; @store
    accepted,      \* readings the head-end accepted, with their log time (its database)
    \* @type: Set(READING); @role: headend; @persist; @store
    logged,        \* the transparency log's content: every reading ever accepted (append-only)
    \* @type: Set(Int); @role: headend; @persist; @store
    counted,       \* the counters of the readings accepted (the data table's key)
    \* @type: Set(Int); @role: headend; @persist; @store
    flagged,       \* counters a different second reading was presented with (audit log)
    \* @type: Set(ENTRY); @role: history
    log,           \* history: every accepted reading with its log time
    \* @type: Set(<<Str, Int>>); @role: headend; @persist; @store
    served,        \* <<supplier, slot>> the head-end handed out (its audit log)
    \* @type: Bool; @role: headend
    switched,      \* the supplier switch has been recorded
    \* @type: Set(ENTRY); @role: history
    servedRevoked  \* history: the readings handed out as evidence once the CRL was known

vars == <<now, crlKnown, accepted, logged, counted, flagged, log, served, switched, servedRevoked>>

TypeOK ==
    /\ now \in Slots
    /\ crlKnown \in BOOLEAN
    /\ accepted \subseteq Entries
    /\ logged \subseteq Reading
    /\ counted \subseteq Counters
    /\ flagged \subseteq Counters
    /\ log \subseteq Entries
    /\ served \subseteq Suppliers \X Slots
    /\ servedRevoked \subseteq Entries

Init ==
    /\ now = 1
    /\ crlKnown = FALSE
    /\ accepted = {}
    /\ logged = {}
    /\ counted = {}
    /\ flagged = {}
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
    /\ UNCHANGED <<crlKnown, accepted, logged, counted, flagged, log, served, servedRevoked>>

\* Whether the log recorded a piece of evidence before the invalidity date
\* (by the log's time; the mutant claimed_time_evidence believes the slot
\* the reading claims instead).
LoggedBeforeInvalidity(e) ==
    \/ e.at < Invalid
    \/ Mutant = "claimed_time_evidence" /\ e.t < Invalid

\* Whether a stored entry still counts under the CRL, once it is known: a
\* key the CRL does not name, or logged before the invalidity date.
NotRevoked(e) ==
    CASE Mutant = "revocation_voids_evidence" -> ~Stolen(e.k)
      [] Mutant = "crl_ignored" -> TRUE
      [] OTHER -> ~Stolen(e.k) \/ LoggedBeforeInvalidity(e)

\* The evidence: what the head-end accepted, judged by the CRL once it is
\* known; every reading the log did not record before the invalidity date
\* is no evidence, everything it recorded before is.  The rotation changes
\* nothing of what was accepted (the mutant rotation_voids_old drops the
\* old key's readings once it is retired).
Evidence ==
    {e \in accepted : /\ crlKnown => NotRevoked(e)
                      /\ ~(Mutant = "rotation_voids_old" /\ now >= Rotate /\ e.k = "k1")}

\* @role: headend @event: crl
\* The CRL reaches the head-end and is applied at once (Evidence reads it).
PublishCRL ==
    /\ now >= Invalid /\ ~crlKnown
    /\ crlKnown' = TRUE
    /\ UNCHANGED <<now, accepted, logged, counted, flagged, log, served, switched, servedRevoked>>

\* Status at signing time, the time the log records a reading accepted
\* now: valid if that is before the invalidity date, or the CRL is not
\* known yet, or the CRL does not name the key.  (The thief's readings
\* before the CRL arrives are accepted: nobody can tell them apart yet; the
\* CRL then removes exactly those logged from the invalidity date on.)  The
\* mutant claimed_time_evidence takes the slot the reading claims instead.
ValidAtSigning(r) ==
    \/ Mutant = "crl_ignored"
    \/ ~crlKnown
    \/ ~Stolen(r.k)
    \/ now < Invalid
    \/ Mutant = "claimed_time_evidence" /\ r.t < Invalid

\* Whether the reading's key is in use at the log's time now: the old key
\* until its retirement, the new one from its certification (the mutant
\* old_key_after_rotation takes the old key after its retirement too).
KeyInUse(r) ==
    IF r.k = "k1" THEN now < Rotate \/ Mutant = "old_key_after_rotation"
                  ELSE now >= Rotate

\* @role: headend @event: ingest(r)
\* A reading signed with one of the meter's keys: by the meter (with the
\* key of its slot and the slot as its counter), or, from the theft on, by
\* whoever holds the stolen keys, for any slot up to now (the head-end
\* refuses a reading dated in its future) and any counter.  Accepted, it is
\* appended to the log and kept as evidence with the log's time, under its
\* counter; the log holds a reading once (a duplicate is answered as
\* already stored and changes nothing), the data table one reading per
\* counter (the mutant counter_reuse_accepted stores a second one beside
\* it, counter_reuse_overwrites in its place).
Ingest(r) ==
    /\ r.t <= now
    /\ r.by = "meter" => r.k = KeyAt(r.t) /\ r.c = r.t
    /\ r.by = "thief" => now >= Invalid /\ Stolen(r.k)   \* the keys are stolen at Invalid
    /\ r \notin logged
    /\ \/ r.c \notin counted
       \/ Mutant = "counter_reuse_accepted"
       \/ Mutant = "counter_reuse_overwrites"
    /\ KeyInUse(r)
    /\ ValidAtSigning(r)
    /\ accepted' = IF Mutant = "counter_reuse_overwrites"
                   THEN {e \in accepted : e.c # r.c} \cup {[t |-> r.t, by |-> r.by, k |-> r.k, c |-> r.c, at |-> now]}
                   ELSE accepted \cup {[t |-> r.t, by |-> r.by, k |-> r.k, c |-> r.c, at |-> now]}
    /\ logged' = logged \cup {r}
    /\ counted' = counted \cup {r.c}
    /\ log' = log \cup {[t |-> r.t, by |-> r.by, k |-> r.k, c |-> r.c, at |-> now]}
    /\ UNCHANGED <<now, crlKnown, flagged, served, switched, servedRevoked>>

\* @role: headend @event: conflict(r)
\* A different reading with a counter the head-end already stored a
\* reading under (a compromised meter or the key's thief reusing a
\* counter): refused, the first one kept, the counter flagged in the audit
\* log.
Conflict(r) ==
    /\ r.t <= now
    /\ r.by = "thief" /\ now >= Invalid /\ Stolen(r.k)
    /\ r \notin logged
    /\ r.c \in counted
    /\ r.c \notin flagged
    /\ flagged' = flagged \cup {r.c}
    /\ UNCHANGED <<now, crlKnown, accepted, logged, counted, log, served, switched, servedRevoked>>

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
    /\ UNCHANGED <<now, crlKnown, accepted, logged, counted, flagged, log, switched, servedRevoked>>

\* Whether the head-end may hand out a stored reading as evidence now: any
\* before the CRL is known; from then on only what the log recorded before
\* the invalidity date (or under a key the CRL does not name), including
\* readings stored before the CRL arrived (the mutant
\* serve_after_invalidity serves whatever it stored).
Evidential(e) ==
    \/ ~crlKnown
    \/ ~Stolen(e.k)
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
    /\ UNCHANGED <<now, crlKnown, accepted, logged, counted, flagged, log, served, switched>>

\* The offline verifier's decision (UC10, `verimeter verify`), over what a
\* customer or court holds: the root and the meter's certificates (k2's
\* says from when it is certified, which retires k1), the CRL if it has one
\* (crl), and an exported reading x with its inclusion proof into a signed
\* tree head, whose time is x.at.  Nothing the head-end decided is read.
\* The old key counts for what a tree head older than its retirement
\* includes, the new one from its certification; a key the CRL names only
\* for what a tree head older than the invalidity date includes.  (The
\* mutant verify_trusts_claimed_time takes the slot the reading claims;
\* verify_voids_revoked_key refuses every reading of a key the CRL names.)
OfflineAccepts(x, crl) ==
    /\ x.k = "k1" => x.at < Rotate
    /\ x.k = "k2" => x.at >= Rotate
    /\ crl /\ Stolen(x.k) =>
           /\ \/ x.at < Invalid
              \/ Mutant = "verify_trusts_claimed_time" /\ x.t < Invalid
           /\ Mutant # "verify_voids_revoked_key"

Next ==
    \/ Tick
    \/ PublishCRL
    \/ \E r \in Reading : Ingest(r)
    \/ \E r \in Reading : Conflict(r)
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

\* S8b: a genuine reading the log recorded before the invalidity date, and
\* under the old key before the rotation, stays evidence (neither the
\* rotation nor a revocation of either key destroys evidence).
S8_EvidenceKept ==
    \A e \in log : e.by = "meter" /\ e.at < Invalid /\ (e.k = "k1" => e.at < Rotate) => e \in Evidence

\* S8c: once the CRL is known, nothing the thief signed is handed out as
\* evidence, whenever it was stored (stated over what was served and who
\* signed it, not through Evidential's log-time rule).
S8_NoRevokedServed ==
    \A e \in servedRevoked : e.by = "meter"

\* S8d: nothing signed with the old key and first logged from the rotation
\* on is evidence, whoever signed it and whatever slot it claims; the new
\* key's evidence begins at its certification (stated over the log times
\* and the constant, not through KeyInUse).
S8_RetiredKeyStops ==
    \A e \in Evidence : (e.k = "k1" => e.at < Rotate) /\ (e.k = "k2" => e.at >= Rotate)

\* S8e (UC10): a customer or court holding the CRL (published from the
\* invalidity date on) accepts no reading the thief signed, whatever slot
\* it claims and whatever log proof it carries: every reading the log ever
\* recorded can be exported with its inclusion proof (the log is
\* append-only, so a thief's reading logged before the CRL reached the
\* head-end keeps its proof).
S8_OfflineNoThief ==
    now >= Invalid => \A x \in log : OfflineAccepts(x, TRUE) => x.by = "meter"

\* S8f (UC10): the verifier rejects no genuine reading the log recorded
\* before the invalidity date (and under the old key before the rotation),
\* with or without the CRL.
S8_OfflineGenuineAccepted ==
    \A x \in log, crl \in BOOLEAN :
        x.by = "meter" /\ x.at < Invalid /\ (x.k = "k1" => x.at < Rotate) => OfflineAccepts(x, crl)

\* S1a: the head-end keeps at most one reading per counter, whatever a
\* compromised meter sends (stated over the stored readings).
S1_OneReadingPerCounter ==
    \A e1, e2 \in accepted : e1.c = e2.c => ReadingOf(e1) = ReadingOf(e2)

\* S1b: a reading the head-end accepted stays stored: a later reading with
\* the same counter never replaces it.
S1_FirstKept ==
    \A e \in log : e \in accepted

=============================================================================
