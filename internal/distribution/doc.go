// Package distribution holds the tests of what is shipped beside the
// binary: the MCP Bundle manifest (mcpb/manifest.json), the registry's
// server.json, and the compose and Kubernetes examples in deploy/.
package distribution
