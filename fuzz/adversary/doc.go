// Package adversary is the adversary campaign of DESIGN.md: for each class
// of attack the spec's adversary can mount (and each spec mutant stands for),
// it attacks the real implementation many times, from a seed, and counts
// attempts, rejections with the expected typed error, acceptances and
// rejections for another reason. Every attempt is logged with log/slog.
//
// The classes here attack the protocol layer a meter, gateway and head-end
// share (replay, reorder, counter rollback and wrap, tampering, forged and
// missing signatures, manifests, certificate status, command roles and
// clock steps). The roles contribute their own classes (a supplier after a
// switch, a bulk disconnect without a second approver) through Run's extra
// argument.
//
// A test build with the tag verimeter_mutant_noreplay disables the
// receiver's replay window; the campaign must then fail, which shows that it
// can.
package adversary
