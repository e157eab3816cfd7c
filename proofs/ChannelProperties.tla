--------------------------- MODULE ChannelProperties ---------------------------
(***************************************************************************)
(* The properties of DESIGN.md that the secured channel (spec/Channel.tla) *)
(* covers, one definition each, as invariants.                            *)
(***************************************************************************)
EXTENDS Channel

\* S2 no replay: an APDU is accepted at most once, and a forgery never
\* occupies the replay window (so it cannot make a genuine APDU refused).
S2 == S2_AcceptedOnce /\ WindowOnlyAuthentic

\* S7 nonces: under one key a nonce seals one plaintext, across crashes.
S7 == S7_NonceUnique

=============================================================================
