------------------------------- MODULE Market -------------------------------
(***************************************************************************)
(* The liberalised market at the head-end (UC6, UC7, UC8, UC10): one      *)
(* meter's readings over time slots 1..T, two suppliers with a switch at  *)
(* slot Switch, participants asking for any slot, and the meter's signing *)
(* key compromised at slot Invalid: the CRL, published later, names that  *)
(* invalidity date.  From then on the attacker signs readings with the     *)
(* stolen key.  The head-end judges a reading's certificate status at its  *)
(* signing time (ingest timestamp, CRL invalidity date), so revocation     *)
(* stops new data but keeps the evidence signed while the key was valid.  *)
(*                                                                         *)
(* Properties: S5 (a participant is served exactly the readings of its    *)
(* contract period) and S8 (no reading signed at or after the invalidity  *)
(* date is accepted once the CRL is known; no reading signed before it is  *)
(* ever voided).  The CRL is applied in the step it arrives in.            *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

CONSTANTS
    T,             \* time slots
    Switch,        \* supplier B takes over at this slot
    Invalid,       \* the meter key is compromised from this slot on
    Mutant

Mutants == {"none", "old_supplier_keeps_access", "crl_ignored", "revocation_voids_evidence"}
ASSUME Mutant \in Mutants /\ Switch \in 2..T /\ Invalid \in 2..T

Suppliers == {"A", "B"}
Slots == 1..T

\* A reading: slot, and who signed it with the meter's key.
\* @typeAlias: READING = [t: Int, by: Str];
\* @type: Set(READING);
Reading == [t : Slots, by : {"meter", "thief"}]

VARIABLES
    \* @type: Int; @role: headend
    now,           \* the head-end's clock (slots)
    \* @type: Bool; @role: headend
    crlKnown,      \* the CRL with the invalidity date reached the head-end
    \* @type: Set(READING); @role: headend; @persist
    accepted,      \* readings the head-end holds as valid evidence
    \* @type: Set(READING); @role: history
    everAccepted,  \* history
    \* @type: Set(<<Str, Int>>); @role: headend
    served,        \* <<supplier, slot>> the head-end handed out
    \* @type: Bool; @role: headend
    switched       \* the supplier switch has been recorded

vars == <<now, crlKnown, accepted, everAccepted, served, switched>>

TypeOK ==
    /\ now \in Slots
    /\ crlKnown \in BOOLEAN
    /\ accepted \subseteq Reading
    /\ served \subseteq Suppliers \X Slots

Init ==
    /\ now = 1
    /\ crlKnown = FALSE
    /\ accepted = {}
    /\ everAccepted = {}
    /\ served = {}
    /\ switched = FALSE

\* @role: headend @event: tick
\* The head-end's clock reaches the next slot; from the switch slot on the
\* switch is recorded (the head-end's contract database).
Tick ==
    /\ now < T  \* @bound
    /\ now' = now + 1
    /\ switched' = (switched \/ now + 1 >= Switch)
    /\ UNCHANGED <<crlKnown, accepted, everAccepted, served>>

\* @role: headend @event: crl
\* The CRL reaches the head-end and is applied at once: every reading
\* signed at or after the invalidity date is dropped from the evidence,
\* everything signed before it is kept.
PublishCRL ==
    /\ now >= Invalid /\ ~crlKnown
    /\ crlKnown' = TRUE
    /\ accepted' = CASE Mutant = "revocation_voids_evidence" -> {}
                      [] Mutant = "crl_ignored" -> accepted
                      [] OTHER -> {r \in accepted : r.t < Invalid}
    /\ UNCHANGED <<now, everAccepted, served, switched>>

\* Status at signing time: valid if signed before the invalidity date, or
\* the CRL is not known yet.  (The thief's readings before the CRL arrives
\* are accepted: nobody can tell them apart yet; the CRL then removes
\* exactly those signed at or after the invalidity date.)
ValidAtSigning(r) ==
    \/ Mutant = "crl_ignored"
    \/ ~crlKnown
    \/ r.t < Invalid

\* @role: headend @event: ingest(r)
Ingest(r) ==
    /\ r.t <= now
    /\ r.by = "thief" => r.t >= Invalid     \* the key is stolen at Invalid
    /\ ValidAtSigning(r)
    /\ accepted' = accepted \cup {r}
    /\ everAccepted' = everAccepted \cup {r}
    /\ UNCHANGED <<now, crlKnown, served, switched>>

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
    /\ UNCHANGED <<now, crlKnown, accepted, everAccepted, switched>>

Next ==
    \/ Tick
    \/ PublishCRL
    \/ \E r \in Reading : Ingest(r)
    \/ \E p \in Suppliers, t \in Slots : Fetch(p, t)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
\* S5: a supplier is served exactly the slots of its contract.
S5_ContractOnly ==
    \A s \in served : IF s[1] = "A" THEN s[2] < Switch ELSE s[2] >= Switch

\* S8a: once the CRL is known, nothing signed at or after the invalidity
\* date is accepted (neither kept from before nor ingested since).
S8_RevocationStopsNewData ==
    crlKnown => \A r \in accepted : r.t < Invalid

\* S8b: a reading signed before the invalidity date, once accepted, stays
\* accepted (revocation never destroys evidence).
S8_EvidenceKept ==
    \A r \in everAccepted : r.t < Invalid => r \in accepted

=============================================================================
