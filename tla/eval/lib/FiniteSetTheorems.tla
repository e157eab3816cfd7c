---- MODULE FiniteSetTheorems ----
(***************************************************************************)
(* A module of the TLA+ Proof System's library of theorems. Specifications *)
(* extend it for their proofs, which a model never evaluates; its theorems *)
(* are left out, and a model that uses one of its names as an operator     *)
(* fails on an unknown name rather than with a value we would have to      *)
(* guess.                                                                  *)
(***************************************************************************)
====
