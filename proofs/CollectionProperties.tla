------------------------- MODULE CollectionProperties -------------------------
(***************************************************************************)
(* The liveness property of DESIGN.md that collection (spec/Collection.tla)*)
(* covers, as a temporal formula checked under the module's fairness.     *)
(***************************************************************************)
EXTENDS Collection

\* L1 readings are eventually accepted: every reading taken is eventually
\* stored, under weak fairness of collection, upload, delivery, ingest, the
\* head-end's acknowledgements (to the gateway, and end to end to the meter)
\* and WAN recovery, also when a compromised gateway acknowledges a reading
\* to the meter and drops it.
L1 == L1_EventuallyStored

=============================================================================
