// Package msc draws a model checker's counterexample as a message sequence
// chart (Mermaid sequenceDiagram text), with the roles of the protocol as
// lifelines, so that an auditor or an engineer reads an attack as the
// exchange it is instead of a list of variable valuations.
//
// The roles come from the specification's own annotations (spec/README.md):
// a comment `\* @type: T; @role: R` above a variable names the role that
// owns it, and `\* @role: R @event: e` above an action names the role that
// takes it. A step is drawn as a note on the acting role's lifeline; every
// variable of another role that the step changes becomes an arrow from the
// actor to that role, labelled with the variable's new value.
package msc
