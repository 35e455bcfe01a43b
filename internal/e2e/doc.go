// Package e2e holds end-to-end tests: the whole server, built from a
// configuration and a policy file as serve builds it (testenv), against the
// sandbox, driven by an MCP client. What is tested here is no one package's
// code but how they add up, such as a policy file's every key as the running
// server enforces it. A package's own behaviour, even when tested through the
// server, stays with the package (tools/*_test.go, internal/server); its unit
// tests too (policy/*_test.go).
package e2e
