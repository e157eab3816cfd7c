---- MODULE MixHelpers ----
EXTENDS Naturals
Double(n) == 2 * n
====
