// Package apitest holds the test that keeps the roles' exported API what a
// deployment uses. Every exported name of meter, gateway and headend (a
// package-level name, a method of an exported type, a field of an exported
// struct) must be used by production code outside its package: the
// commands of cmd/verimeter that run, provision and verify a deployment, or
// another production package. A name that only tests, fuzz targets or the
// simulation use (internal/sim, the demo and the attack campaign of
// cmd/verimeter) is a hook that belongs in an export_test.go file or behind
// an option a deployment could use too; one only its own package uses
// should be unexported. The test type-checks the module from source with
// go/types and fails listing each such name.
package apitest
