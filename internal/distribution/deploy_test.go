package distribution

import (
	"bytes"
	"errors"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v4"
)

// stateDir is where the image keeps its state (the Dockerfile's
// CONVIRZA_MCP_STATE_DIR).
const stateDir = "/var/lib/convirza-mcp"

type obj = map[string]any

// get walks a decoded YAML document by keys (string) and indexes (int).
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(obj)
			if !ok {
				t.Fatalf("at %v: %T is not a mapping", path, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at %v: no item %d", path, k)
			}
			v = l[k]
		}
	}
	return v
}

func decodeAll(t *testing.T, path string) []obj {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var docs []obj
	for {
		var d obj
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, d)
	}
}

// deploy/compose.yaml: Redis, three replicas sharing it with the keys
// replicas must share, HAProxy with deploy/haproxy.cfg pointing at them.
func TestComposeExample(t *testing.T) {
	docs := decodeAll(t, "../../deploy/compose.yaml")
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	services := get(t, docs[0], "services").(obj)
	if _, ok := services["redis"]; !ok {
		t.Fatal("no redis service")
	}
	for _, r := range []string{"replica1", "replica2", "replica3"} {
		env, _ := get(t, services, r, "environment").(obj)
		for _, k := range []string{"CONVIRZA_MCP_AUTH_TOKEN", "CONVIRZA_MCP_CONFIRMATION_KEY", "CONVIRZA_MCP_STORE_KEY", "CONVIRZA_EMAIL", "CONVIRZA_PASSWORD"} {
			if env[k] == nil {
				t.Errorf("%s lacks %s", r, k)
			}
		}
		if s, _ := env["CONVIRZA_MCP_STORE"].(string); !strings.HasPrefix(s, "redis://redis:") {
			t.Errorf("%s store %q", r, s)
		}
		if env["CONVIRZA_MCP_REPLICA"] != r {
			t.Errorf("%s replica name %v", r, env["CONVIRZA_MCP_REPLICA"])
		}
		if tmpfs := get(t, services, r, "tmpfs"); !slices.ContainsFunc(tmpfs.([]any), func(v any) bool {
			return strings.HasPrefix(v.(string), stateDir+":") && strings.Contains(v.(string), "uid=65532")
		}) {
			t.Errorf("%s: no writable state dir for uid 65532 on a read-only root: %v", r, tmpfs)
		}
	}
	hp := get(t, services, "haproxy").(obj)
	if !slices.Contains(hp["volumes"].([]any), any("./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro")) {
		t.Errorf("haproxy does not mount deploy/haproxy.cfg: %v", hp["volumes"])
	}
	cfg, err := os.ReadFile("../../deploy/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	env := hp["environment"].(obj)
	for _, m := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(string(cfg), -1) {
		if env[m[1]] == nil {
			t.Errorf("haproxy.cfg needs %s, compose does not set it", m[1])
		}
	}
	for i, r := range []string{"replica1", "replica2", "replica3"} {
		if v := env["MCP_REPLICA"+string(rune('1'+i))]; v != r+":8080" {
			t.Errorf("MCP_REPLICA%d = %v", i+1, v)
		}
	}
}

// deploy/k8s: a Deployment of three non-root replicas (uid 65532,
// read-only root, the state dir on an emptyDir, probes on /healthz and
// /readyz) reading the example Secret, a Service selecting them, Redis.
func TestKubernetesExamples(t *testing.T) {
	byKind := map[string]obj{}
	for _, f := range []string{"deployment.yaml", "secret.example.yaml", "redis.yaml"} {
		for _, d := range decodeAll(t, "../../deploy/k8s/"+f) {
			name, _ := get(t, d, "metadata", "name").(string)
			byKind[d["kind"].(string)+"/"+name] = d
		}
	}
	dep := byKind["Deployment/convirza-mcp"]
	if dep == nil {
		t.Fatalf("no Deployment convirza-mcp: %v", byKind)
	}
	if r := get(t, dep, "spec", "replicas"); r != 3 {
		t.Errorf("replicas %v", r)
	}
	pod := get(t, dep, "spec", "template").(obj)
	if get(t, pod, "spec", "securityContext", "runAsNonRoot") != true || get(t, pod, "spec", "securityContext", "runAsUser") != 65532 {
		t.Errorf("pod securityContext %v", get(t, pod, "spec", "securityContext"))
	}
	c := get(t, pod, "spec", "containers", 0).(obj)
	if get(t, c, "securityContext", "readOnlyRootFilesystem") != true {
		t.Error("root filesystem not read-only")
	}
	if get(t, c, "livenessProbe", "httpGet", "path") != "/healthz" || get(t, c, "readinessProbe", "httpGet", "path") != "/readyz" {
		t.Error("probes must be /healthz (liveness) and /readyz (readiness)")
	}
	// A rolling update rolls forward by raising the policy generation.
	generation := ""
	for _, e := range get(t, c, "env").([]any) {
		if e := e.(obj); e["name"] == "CONVIRZA_MCP_POLICY_GENERATION" {
			generation, _ = e["value"].(string)
		}
	}
	if _, err := strconv.ParseUint(generation, 10, 64); err != nil {
		t.Errorf("the Deployment sets no CONVIRZA_MCP_POLICY_GENERATION to raise with each change (%q)", generation)
	}
	if get(t, dep, "spec", "strategy", "type") != "RollingUpdate" {
		t.Error("the Deployment does not roll")
	}
	mount := get(t, c, "volumeMounts", 0).(obj)
	if mount["mountPath"] != stateDir {
		t.Errorf("state dir mount %v", mount)
	}
	vol := get(t, pod, "spec", "volumes", 0).(obj)
	if vol["name"] != mount["name"] || vol["emptyDir"] == nil {
		t.Errorf("the state dir is not an emptyDir: %v", vol)
	}
	secretName := get(t, c, "envFrom", 0, "secretRef", "name")
	secret := byKind["Secret/"+secretName.(string)]
	if secret == nil {
		t.Fatalf("no Secret %v", secretName)
	}
	data := get(t, secret, "stringData").(obj)
	for _, k := range []string{"CONVIRZA_EMAIL", "CONVIRZA_PASSWORD", "CONVIRZA_MCP_AUTH_TOKEN", "CONVIRZA_MCP_CONFIRMATION_KEY", "CONVIRZA_MCP_STORE_KEY", "CONVIRZA_MCP_STORE"} {
		if data[k] == nil {
			t.Errorf("Secret lacks %s", k)
		}
	}
	store, _ := data["CONVIRZA_MCP_STORE"].(string)
	if byKind["Service/convirza-mcp-redis"] == nil || !strings.HasPrefix(store, "redis://convirza-mcp-redis:") {
		t.Errorf("store %q does not name the example Redis Service", store)
	}
	svc := byKind["Service/convirza-mcp"]
	labels := get(t, pod, "metadata", "labels").(obj)
	for k, v := range get(t, svc, "spec", "selector").(obj) {
		if labels[k] != v {
			t.Errorf("Service selector %s=%v does not match the pods", k, v)
		}
	}
}
