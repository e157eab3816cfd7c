------------------------------ MODULE Channel ------------------------------
(***************************************************************************)
(* The secured channel of UC2/UC3 between a meter (it seals readings) and  *)
(* its gateway (it opens them), under a Dolev-Yao attacker on the PLC      *)
(* medium: every APDU ever sent stays in `net`, so the attacker can        *)
(* deliver any of them again, in any order, or never; it can also inject  *)
(* APDUs of its own, which do not authenticate (no key: crypto is         *)
(* abstract).  The meter reserves invocation counters in persisted blocks *)
(* before use and can lose power at any point.  A key agreement, started  *)
(* by the gateway and answered by the meter when its message arrives,      *)
(* gives a fresh key (each side holds its own epoch) and restarts the      *)
(* counters.  The gateway keeps its sessions in memory: a restart loses   *)
(* its key and its replay window, and it opens no APDU until it has run a  *)
(* new key agreement, under whose fresh key no APDU of an earlier one      *)
(* opens.                                                                  *)
(*                                                                         *)
(* Properties: S2 (an APDU is accepted at most once, also across gateway   *)
(* restarts), S7 (a key never sees the same nonce for two different        *)
(* plaintexts, also across crashes) and WindowOnlyAuthentic (the replay    *)
(* window only ever records counters of authenticated APDUs, so a forgery  *)
(* cannot block a genuine APDU).                                           *)
(*                                                                         *)
(* Mutant selects a weakening (spec/README.md); "none" is the protocol.    *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

CONSTANTS
    MaxSeals,      \* APDUs the meter seals in a run (each a distinct plaintext)
    Block,         \* counters reserved per durable write (protocol: 256)
    MaxCtr,        \* counters per key (protocol: 2^32); at MaxCtr a new key is needed
    MaxKeys,       \* key agreements in a run
    Wrap,          \* size of a too-small counter field (mutant "wrap")
    MaxForged,     \* APDUs the attacker injects
    MaxRestarts,   \* gateway restarts in a run
    Mutant

VARIABLES
    \* @type: Int; @role: meter; @persist
    reserved,      \* counters below this are durably reserved
    \* @type: Int; @role: meter
    next,          \* next counter to use (volatile)
    \* @type: Int; @role: meter
    sent,          \* APDUs sealed so far; the next plaintext is sent + 1
    \* @type: Int; @role: meter; @persist
    mkey,          \* the meter's key epoch (the session it seals under)
    \* @type: Int; @role: gateway
    gkey,          \* the gateway's key epoch (the session it opens under, or last opened under)
    \* @type: Bool; @role: gateway
    gopen,         \* the gateway holds the session of gkey (volatile: its key is lost at a restart)
    \* @type: Set(Int); @role: attacker
    kas,           \* key agreements on the medium (the epochs offered)
    \* @type: Set([k: Int, c: Int, r: Int, auth: Bool]); @role: attacker
    net,           \* every APDU ever on the medium
    \* @type: Set(Int); @role: gateway; @store
    seen,          \* counters accepted under the current key (the window; the gateway keeps it as a bitmap)
    \* @type: Set(<<Int, Int>>); @role: history
    accepted,      \* <<key, counter>> of every accepted APDU
    \* @type: Bool; @role: history
    dup,           \* an APDU was accepted twice
    \* @type: Set([k: Int, n: Int, r: Int]); @role: history
    sealed,        \* <<key, nonce, plaintext>> of every seal
    \* @type: Int; @role: attacker
    forged,
    \* @type: Int; @role: history
    restarts       \* gateway restarts so far (bounded by MaxRestarts)

vars == <<reserved, next, sent, mkey, gkey, gopen, kas, net, seen, accepted, dup, sealed, forged, restarts>>

Mutants == {"none", "no_check", "restart_same_key", "wrap", "window_before_auth", "no_persist",
            "gateway_restart_keeps_key"}

ASSUME Mutant \in Mutants

\* The nonce is system title || counter; with a wrapping counter field it is
\* the counter modulo the field size.
Nonce(c) == IF Mutant = "wrap" THEN c % Wrap ELSE c

TypeOK ==
    /\ reserved \in 0..MaxCtr + Block
    /\ next \in 0..MaxCtr + Block
    /\ sent \in 0..MaxSeals
    /\ mkey \in 1..MaxKeys
    /\ gkey \in 1..MaxKeys
    /\ gopen \in BOOLEAN
    /\ kas \subseteq 1..MaxKeys
    /\ seen \subseteq 0..MaxCtr + Block
    /\ dup \in BOOLEAN
    /\ restarts \in 0..MaxRestarts

Init ==
    /\ reserved = 0
    /\ next = 0
    /\ sent = 0
    /\ mkey = 1
    /\ gkey = 1
    /\ gopen = TRUE
    /\ kas = {}
    /\ net = {}
    /\ seen = {}
    /\ accepted = {}
    /\ dup = FALSE
    /\ sealed = {}
    /\ forged = 0
    /\ restarts = 0

\* @role: meter @event: reserve
\* Persist a block of counters before using any of them.
Reserve ==
    /\ Mutant # "no_persist"
    /\ next = reserved
    /\ reserved < MaxCtr
    /\ reserved' = reserved + Block
    /\ UNCHANGED <<next, sent, mkey, gkey, gopen, kas, net, seen, accepted, dup, sealed, forged, restarts>>

\* Counters left under the current key: the protocol stops at MaxCtr (a new
\* key agreement is required); the wrapping mutant has no such limit.
CanSeal ==
    /\ IF Mutant = "no_persist" THEN TRUE ELSE next < reserved
    /\ next < MaxCtr

\* @role: meter @event: send
\* Seal the next plaintext (a reading, a block, an answer: each APDU's
\* plaintext differs) under the next counter.
Seal ==
    /\ CanSeal
    /\ sent < MaxSeals  \* @bound
    /\ sent' = sent + 1
    /\ net' = net \cup {[k |-> mkey, c |-> next, r |-> sent + 1, auth |-> TRUE]}
    /\ sealed' = sealed \cup {[k |-> mkey, n |-> Nonce(next), r |-> sent + 1]}
    /\ next' = next + 1
    /\ UNCHANGED <<reserved, mkey, gkey, gopen, kas, seen, accepted, dup, forged, restarts>>

\* @role: meter @event: power_loss
\* Volatile state is lost; the meter resumes above its durable reservation.
\* (Mutant "no_persist" never wrote one; "restart_same_key" restarts at 0.)
Crash ==
    /\ next' = IF Mutant = "restart_same_key" THEN 0 ELSE reserved
    /\ UNCHANGED <<reserved, sent, mkey, gkey, gopen, kas, net, seen, accepted, dup, sealed, forged, restarts>>

\* @role: gateway @event: key_agreement
\* The gateway starts a fresh signed key agreement: it opens under the new
\* key from now on, with an empty window.
Rekey ==
    /\ gkey < MaxKeys  \* @bound
    /\ gkey' = gkey + 1
    /\ gopen' = TRUE
    /\ seen' = {}
    /\ kas' = kas \cup {gkey + 1}
    /\ UNCHANGED <<reserved, next, sent, mkey, net, accepted, dup, sealed, forged, restarts>>

\* @role: gateway @event: restart
\* The gateway restarts (power loss, a new process, another gateway taking
\* the meter over): its sessions are volatile, so it loses its key and its
\* window and holds no session until its next key agreement (Rekey), whose
\* fresh key is the only one it opens under. gkey stays as the name of the
\* last epoch it started, so that the next one is new (a fresh ECDH key
\* differs from every earlier one); with gopen FALSE no APDU opens under
\* it. (Mutant "gateway_restart_keeps_key" resumes under the old key with
\* an empty window.)
Restart ==
    /\ restarts < MaxRestarts  \* @bound
    /\ restarts' = restarts + 1
    /\ gopen' = IF Mutant = "gateway_restart_keeps_key" THEN gopen ELSE FALSE
    /\ seen' = {}
    /\ UNCHANGED <<reserved, next, sent, mkey, gkey, kas, net, accepted, dup, sealed, forged>>

\* @role: meter @event: key_agreement(k)
\* The meter answers a key agreement newer than its session (the signed
\* exchange is abstract): it seals under the new key, counters from 0 (a
\* new key id is a new counter in the counter store).
Agree(k) ==
    /\ k > mkey
    /\ mkey' = k
    /\ next' = 0
    /\ reserved' = 0
    /\ UNCHANGED <<sent, gkey, gopen, kas, net, seen, accepted, dup, sealed, forged, restarts>>

\* @role: attacker @event: inject(k, c)
\* The attacker builds an APDU for any key and counter; without the key its
\* GCM tag does not verify.
Inject(k, c) ==
    /\ forged < MaxForged  \* @bound
    /\ forged' = forged + 1
    /\ net' = net \cup {[k |-> k, c |-> c, r |-> 0, auth |-> FALSE]}
    /\ UNCHANGED <<reserved, next, sent, mkey, gkey, gopen, kas, seen, accepted, dup, sealed, restarts>>

\* @crypto
\* The APDU's GCM tag verifies under the session key (crypto is abstract:
\* only APDUs the meter sealed carry a valid tag).
Authentic(m) == m.auth

\* @role: gateway @event: receive(m)
\* Only under a session the gateway holds; check the counter against the
\* window, authenticate, and only then update the window (RFC 6479, after
\* authentication).
Receive(m) ==
    /\ gopen
    /\ m.k = gkey
    /\ IF Mutant = "no_check" THEN TRUE ELSE m.c \notin seen
    /\ IF Authentic(m)
          THEN /\ seen' = seen \cup {m.c}
               /\ dup' = (dup \/ <<m.k, m.c>> \in accepted)
               /\ accepted' = accepted \cup {<<m.k, m.c>>}
          ELSE /\ seen' = IF Mutant = "window_before_auth" THEN seen \cup {m.c} ELSE seen
               /\ UNCHANGED <<dup, accepted>>
    /\ UNCHANGED <<reserved, next, sent, mkey, gkey, gopen, kas, net, sealed, forged, restarts>>

Next ==
    \/ Reserve
    \/ Seal
    \/ Crash
    \/ Rekey
    \/ Restart
    \/ \E k \in kas : Agree(k)
    \/ \E k \in 1..MaxKeys, c \in 0..MaxCtr - 1 : Inject(k, c)
    \/ \E m \in net : Receive(m)

Spec == Init /\ [][Next]_vars

\* Trace validation of the meter's log alone (spec/trace/Channel.cfg): Next
\* without the gateway's Receive and Restart and the attacker's
\* Inject. Those change none of the meter's variables nor kas nor gkey, so
\* they neither enable nor disable a step of the meter or the gateway's
\* Rekey; a behaviour of MeterView is a behaviour of Next, and a meter's
\* log that MeterView explains Next explains too. The gateway's Rekey is
\* the hidden step before the meter's Agree.
MeterView ==
    \/ Reserve
    \/ Seal
    \/ Crash
    \/ Rekey
    \/ \E k \in kas : Agree(k)

\* Trace validation of the meter's and the gateway's logs together
\* (spec/trace/Channel.cfg): Next without the attacker's Inject. The
\* gateway logs only the Receive of authentic APDUs (the Receive of a
\* forged one changes no variable: a stuttering step), and its restart: a
\* new incarnation that resumes the log of an earlier one logs
\* Restart before its first Rekey. A behaviour of RolesView is a
\* behaviour of Next.
RolesView ==
    \/ MeterView
    \/ Restart
    \/ \E m \in net : Receive(m)

-----------------------------------------------------------------------------
(* Properties (proofs/README.md).                                          *)

\* S2: no APDU is accepted twice (also across gateway restarts).
S2_AcceptedOnce == ~dup

\* S7: under one key, one nonce seals one plaintext.
S7_NonceUnique ==
    \A x, y \in sealed : (x.k = y.k /\ x.n = y.n) => x.r = y.r

\* The window holds only counters of authentic APDUs: a forged APDU can
\* never make the gateway refuse a genuine one.
WindowOnlyAuthentic ==
    \A c \in seen : <<gkey, c>> \in accepted

=============================================================================
