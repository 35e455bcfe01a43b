// Package deploy holds the tests of the scaled-out deployment in this
// directory: local.sh starts redis-server, the standalone simulator, three
// replicas and HAProxy (haproxy.cfg) on loopback, and deploy_test.go drives
// them as clients would: confirmation tokens redeemed across replicas,
// upstream token renewal under load, a replica killed mid-run, a rolling
// update to a higher policy generation (local.sh roll) that HAProxy drains
// the superseded replicas through, and replicas kept in while the upstream
// is unreachable.
//
// The tests need bash, curl, redis-server and haproxy (Debian: apt-get
// install redis-server haproxy; .ci/run installs them). When one is
// missing they fail, naming it; CONVIRZA_MCP_NO_DEPLOY_TEST=1 skips them
// on purpose.
package deploy
