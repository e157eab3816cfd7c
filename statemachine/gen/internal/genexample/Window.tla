------------------------------ MODULE Window ------------------------------
(***************************************************************************)
(* An example for statemachine/gen's own tests, not part of the protocol: *)
(* the gateway's replay window of spec/Channel.tla without the meter's    *)
(* side, so that IF over assignments, tuples, parameters drawn from a     *)
(* variable and sends are generated and checked against the evaluator.   *)
(***************************************************************************)
EXTENDS Naturals

CONSTANTS MaxCtr, MaxKeys, Mutant

VARIABLES
    \* @type: Set([k: Int, c: Int, auth: Bool]); @role: attacker
    net,
    \* @type: Int; @role: gateway; @persist
    key,
    \* @type: Set(Int); @role: gateway
    seen,
    \* @type: Set(<<Int, Int>>); @role: gateway
    accepted,
    \* @type: Bool; @role: gateway
    dup,
    \* @type: Set([c: Int, ok: Bool]); @role: wan
    acks

vars == <<net, key, seen, accepted, dup, acks>>

Init ==
    /\ net = {}
    /\ key = 1
    /\ seen = {}
    /\ accepted = {}
    /\ dup = FALSE
    /\ acks = {}

\* @role: attacker @event: inject(k, c, a)
Inject(k, c, a) ==
    /\ net' = net \cup {[k |-> k, c |-> c, auth |-> a]}
    /\ UNCHANGED <<key, seen, accepted, dup, acks>>

\* @role: gateway @event: receive(m)
Receive(m) ==
    /\ m.k = key
    /\ IF Mutant = "no_check" THEN TRUE ELSE m.c \notin seen
    /\ IF m.auth
          THEN /\ seen' = seen \cup {m.c}
               /\ dup' = (dup \/ <<m.k, m.c>> \in accepted)
               /\ accepted' = accepted \cup {<<m.k, m.c>>}
          ELSE /\ seen' = IF Mutant = "window_before_auth" THEN seen \cup {m.c} ELSE seen
               /\ UNCHANGED <<dup, accepted>>
    /\ acks' = acks \cup {[c |-> m.c, ok |-> m.auth]}
    /\ UNCHANGED <<net, key>>

\* @role: gateway @event: rekey
Rekey ==
    /\ key < MaxKeys  \* @bound
    /\ key' = key + 1
    /\ seen' = {}
    /\ UNCHANGED <<net, accepted, dup, acks>>

Next ==
    \/ \E k \in 1..MaxKeys, c \in 0..MaxCtr, a \in BOOLEAN : Inject(k, c, a)
    \/ \E m \in net : Receive(m)
    \/ Rekey

Spec == Init /\ [][Next]_vars
=============================================================================
