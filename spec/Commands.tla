------------------------------ MODULE Commands ------------------------------
(***************************************************************************)
(* Administration commands (UC4) from the head-end through a gateway to a *)
(* meter.  The head-end signs each command with the meter's next command  *)
(* counter; the gateway relays and may restart (it then resends what it   *)
(* relayed); the attacker on the medium replays, reorders and injects, and *)
(* a compromised gateway signs commands of its own (its role allows none). *)
(* The meter runs a command only if the head-end signed it and its counter *)
(* is above the last one it ran, which it persists before the effect.      *)
(*                                                                         *)
(* The head-end signs a disconnect only with two distinct approvers of   *)
(* its staff (UC4); one of them may be an insider, who approves anything  *)
(* and holds (or misuses) the head-end's command-signing key.  Each       *)
(* approval is a signature of one staff member's own key over the        *)
(* command (its counter and kind); the staff who approve a command sign   *)
(* it when the head-end issues it.  The meter runs a disconnect only if   *)
(* it carries approvals, over that very command, of two distinct staff    *)
(* keys its trust list certifies (role command-approver): the head-end's  *)
(* signature alone is not enough.  The insider's misuse of the head-end   *)
(* key is that any command the head-end signed may be a disconnect at the *)
(* meter (the meter chooses Execute or ExecuteDisconnect freely; the      *)
(* code chooses by the signed kind), and the insider signs approvals of a *)
(* disconnect of any counter with his own staff key.  Other kinds need    *)
(* one approver, whose role must allow the kind (outside this model): one *)
(* insider alone may issue them.                                          *)
(*                                                                         *)
(* A trust-list command carries a trust list (the operator change, UC4), *)
(* signed by the operator's trust-list key apart from the command: the    *)
(* meter installs it only if that key signed it and its version is newer  *)
(* than the installed one, and persists the version with the counter.     *)
(* Any list of any version may reach the meter in any command: the key    *)
(* signs every version in turn, every list is replayable, and an operator *)
(* (or a gateway) signs lists with its own key.                           *)
(*                                                                         *)
(* Properties: S6 (only the head-end's commands run, each at most once,    *)
(* the head-end signs each disconnect on two of its staff's approvals,    *)
(* every disconnect the meter ran was approved by two distinct staff      *)
(* members whatever the insider signed, only the trust-list key's lists   *)
(* installed, each newer than the last) and S9 (they run in the order     *)
(* issued).                                                               *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    MaxCommands,   \* commands the head-end issues (a model bound)
    MaxRestarts,   \* gateway restarts in a run
    MaxLists,      \* trust-list versions the trust-list key signs (a model bound)
    Mutant

Mutants == {"none", "window", "gateway_dedup", "single_approver", "shared_command_key",
            "trust_list_rollback", "trust_list_any_signer", "single_insider_disconnect"}
ASSUME Mutant \in Mutants

\* The head-end's staff who approve commands, by number: 1 is an
\* approver, 2 an insider who approves anything and holds the head-end's
\* command-signing key.
Staff == 1..2
Insider == 2

\* Command kinds as far as approval goes: a disconnect, or any other kind.
Kinds == {"disconnect", "other"}

\* A trust list as a command carries it: its version and who signed it,
\* the trust-list key or an operator (or a gateway) with its own key.
\* The commissioning list is version 1.
\* @typeAlias: LIST = [ver: Int, by: Str];
\* @type: Set(LIST);
Lists == [ver : 1..MaxLists, by : {"trustlist", "operator"}]

\* An approval as a command carries it: the command it signs (counter and
\* kind) and the staff member whose key signed it.
\* @typeAlias: SIG = [id: Int, kind: Str, who: Int];

VARIABLES
    \* @type: Int; @role: headend; @persist
    issued,        \* commands 1..issued were signed by the head-end
    \* @type: Set([id: Int, by: Str]); @role: attacker
    net,           \* every command APDU ever on the medium
    \* @type: Set(Int); @role: gateway
    relayed,       \* commands this gateway incarnation relayed (volatile)
    \* @type: Int; @role: meter; @persist
    last,          \* counter of the last command run
    \* @type: Seq(Int); @role: history
    ran,           \* commands in the order they ran
    \* @type: Int; @role: history
    restarts,      \* gateway restarts so far (for the model bound)
    \* @type: Seq(Int); @role: history
    approvals,     \* how many different people approved each issued disconnect
    \* @type: Int; @role: meter; @persist
    tlVer,         \* version of the installed trust list
    \* @type: Seq(LIST); @role: history
    installs,      \* the trust lists the meter installed, in order
    \* @type: Set(SIG); @role: attacker
    sigs,          \* every approval signature ever made (they travel in commands)
    \* @type: Set(SIG); @role: history
    approved,      \* who approved which command, as it happened
    \* @type: Seq(Int); @role: history
    cut            \* the commands the meter ran as disconnects, in order

vars == <<issued, net, relayed, last, ran, restarts, approvals, tlVer, installs, sigs, approved, cut>>

TypeOK ==
    /\ issued \in 0..MaxCommands
    /\ last \in 0..MaxCommands
    /\ relayed \subseteq 1..MaxCommands
    /\ tlVer \in 1..MaxLists

Init ==
    /\ issued = 0
    /\ net = {}
    /\ relayed = {}
    /\ last = 0
    /\ ran = <<>>
    /\ restarts = 0
    /\ approvals = <<>>
    /\ tlVer = 1
    /\ installs = <<>>
    /\ sigs = {}
    /\ approved = {}
    /\ cut = <<>>

\* @role: headend @event: issue(a, b, k)
\* Members a and b of staff approve a command of kind k (a = b when one
\* person approves), each signing it with their own key; the head-end
\* signs a disconnect only if they are two different people (the mutant
\* accepts one approval) and embeds their approvals.
Issue(a, b, k) ==
    /\ issued < MaxCommands  \* @bound
    /\ k = "disconnect" => a # b \/ Mutant = "single_approver"
    /\ issued' = issued + 1
    /\ sigs' = sigs \cup {[id |-> issued + 1, kind |-> k, who |-> a], [id |-> issued + 1, kind |-> k, who |-> b]}
    /\ approvals' = IF k = "disconnect" THEN Append(approvals, IF a = b THEN 1 ELSE 2) ELSE approvals
    /\ approved' = approved \cup {[id |-> issued + 1, kind |-> k, who |-> a], [id |-> issued + 1, kind |-> k, who |-> b]}
    /\ UNCHANGED <<net, relayed, last, ran, restarts, tlVer, installs, cut>>

\* @role: gateway @event: relay(c)
\* The gateway relays a signed command it has not relayed yet (in this
\* incarnation).
Relay(c) ==
    /\ c \notin relayed
    /\ relayed' = relayed \cup {c}
    /\ net' = net \cup {[id |-> c, by |-> "headend"]}
    /\ UNCHANGED <<issued, last, ran, restarts, approvals, tlVer, installs, sigs, approved, cut>>

\* @role: gateway @event: restart
Restart ==
    /\ restarts < MaxRestarts  \* @bound
    /\ restarts' = restarts + 1
    /\ relayed' = {}
    /\ UNCHANGED <<issued, net, last, ran, approvals, tlVer, installs, sigs, approved, cut>>

\* @role: attacker @event: inject(c)
\* A compromised gateway signs a command with its own key.
Inject(c) ==
    /\ net' = net \cup {[id |-> c, by |-> IF Mutant = "shared_command_key" THEN "headend" ELSE "gateway"]}
    /\ UNCHANGED <<issued, relayed, last, ran, restarts, approvals, tlVer, installs, sigs, approved, cut>>

\* @role: attacker @event: insiderApprove(c)
\* The insider signs, with his own staff key, an approval of a disconnect
\* with counter c (he approves anything; with the head-end's key he signs
\* the disconnect itself).
InsiderApprove(c) ==
    /\ sigs' = sigs \cup {[id |-> c, kind |-> "disconnect", who |-> Insider]}
    /\ approved' = approved \cup {[id |-> c, kind |-> "disconnect", who |-> Insider]}
    /\ UNCHANGED <<issued, net, relayed, last, ran, restarts, approvals, tlVer, installs, cut>>

\* The meter's check: the head-end's signature (role), and a counter above
\* the last one run.  "window" accepts any counter not run yet (reordering
\* allowed); "gateway_dedup" trusts the gateway not to repeat itself.
Fresh(m) ==
    CASE Mutant = "window" -> \A i \in 1..Len(ran) : ran[i] # m.id
      [] Mutant = "gateway_dedup" -> TRUE
      [] OTHER -> m.id > last

\* @crypto
\* The signature on a command is role r's: the meter verifies it under a key
\* its trust list gives that role (crypto is abstract: m.by names the
\* signer).
SignedBy(m, r) == m.by = r

\* @role: meter @event: command(m)
Execute(m) ==
    /\ SignedBy(m, "headend")
    /\ Fresh(m)
    /\ last' = IF m.id > last THEN m.id ELSE last
    /\ ran' = Append(ran, m.id)
    /\ UNCHANGED <<issued, net, relayed, restarts, approvals, tlVer, installs, sigs, approved, cut>>

\* @crypto
\* Approval s is a signature over command m of kind k: the meter verifies
\* it over the command's content under a key its trust list gives the
\* command-approver role (crypto is abstract: s.id and s.kind name the
\* command signed, s.who the staff member whose key signed it).
Approves(s, m, k) == s.id = m.id /\ s.kind = k

\* @role: meter @event: disconnect(m, s1, s2)
\* A disconnect: the command's own checks, and two approvals of it by two
\* distinct staff keys ("single_insider_disconnect" counts one approval
\* twice, as a meter that checks the head-end's signature alone lets one
\* insider disconnect).
ExecuteDisconnect(m, s1, s2) ==
    /\ SignedBy(m, "headend")
    /\ Fresh(m)
    /\ Approves(s1, m, "disconnect")
    /\ Approves(s2, m, "disconnect")
    /\ s1.who # s2.who \/ Mutant = "single_insider_disconnect"
    /\ last' = IF m.id > last THEN m.id ELSE last
    /\ ran' = Append(ran, m.id)
    /\ cut' = Append(cut, m.id)
    /\ UNCHANGED <<issued, net, relayed, restarts, approvals, tlVer, installs, sigs, approved>>

\* @crypto
\* The trust list's signature is r's: the meter verifies it under the
\* operator's trust-list key it was commissioned with (crypto is abstract:
\* l.by names the signer).
ListSignedBy(l, r) == l.by = r

\* A list the meter may install: newer than the installed one ("rollback"
\* takes any other version, so a replayed old list brings the old
\* operator back).
NewerList(l) ==
    IF Mutant = "trust_list_rollback" THEN l.ver # tlVer ELSE l.ver > tlVer

\* @role: meter @event: trustList(m, l)
\* A command that carries trust list l: the command's own checks, and the
\* list signed by the trust-list key ("any_signer": by any key) and newer
\* than the installed one; the counter and the list are persisted in one
\* record.
ExecuteTrustList(m, l) ==
    /\ SignedBy(m, "headend")
    /\ Fresh(m)
    /\ ListSignedBy(l, "trustlist") \/ Mutant = "trust_list_any_signer"
    /\ NewerList(l)
    /\ last' = IF m.id > last THEN m.id ELSE last
    /\ tlVer' = l.ver
    /\ ran' = Append(ran, m.id)
    /\ installs' = Append(installs, l)
    /\ UNCHANGED <<issued, net, relayed, restarts, approvals, sigs, approved, cut>>

Next ==
    \/ \E a, b \in 1..2, k \in Kinds : Issue(a, b, k)   \* a, b \in Staff
    \/ \E c \in 1..issued : Relay(c)
    \/ Restart
    \/ \E c \in 1..MaxCommands : Inject(c)
    \/ \E c \in 1..issued : InsiderApprove(c)
    \/ \E m \in net : Execute(m)
    \/ \E m \in net, s1, s2 \in sigs : ExecuteDisconnect(m, s1, s2)
    \/ \E m \in net, l \in Lists : ExecuteTrustList(m, l)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
\* S6: every command that ran was issued by the head-end, and ran once.
S6_AtMostOnce == \A i, j \in 1..Len(ran) : i # j => ran[i] # ran[j]
S6_OnlyIssued == \A i \in 1..Len(ran) : ran[i] <= issued
\* The head-end signed every disconnect on two different people's approval.
S6_TwoApprovers == \A i \in 1..Len(approvals) : approvals[i] >= 2
\* Every disconnect the meter ran was approved by two different members of
\* staff (who approved, as it happened), whatever the insider signed with
\* the head-end's key.
S6_FourEyes ==
    \A i \in 1..Len(cut) : \E a, b \in Staff :
        /\ a # b
        /\ [id |-> cut[i], kind |-> "disconnect", who |-> a] \in approved
        /\ [id |-> cut[i], kind |-> "disconnect", who |-> b] \in approved
\* Only the trust-list key's lists are installed, each newer than the one
\* before: neither an operator nor a replay brings an old operator back.
S6_TrustListAuthentic == \A i \in 1..Len(installs) : installs[i].by = "trustlist"
S6_TrustListNewest ==
    \A i \in 1..Len(installs) :
        installs[i].ver > (IF i = 1 THEN 1 ELSE installs[i - 1].ver)

\* S9: commands run in the order issued.
S9_InOrder == \A i \in 1..Len(ran) - 1 : ran[i] < ran[i + 1]

=============================================================================
