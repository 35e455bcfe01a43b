package tools_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

func TestListVoiceAgents(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	out := env.OK(t, "list_voice_agents", `{}`)
	items := nrItems(t, out, "voice_agents")
	var ids []string
	for _, it := range items {
		ids = append(ids, fmt.Sprint(it["voice_agent_id"]))
	}
	// Newest first, the deleted agent left out.
	if want := []string{"806", "804", "803", "802", "801"}; !slices.Equal(ids, want) {
		t.Errorf("default list: %v, want %v", ids, want)
	}
	if got := nrBusinessCalls(env); !slices.Equal(got, []string{"GET /v3/ai-voice-agents"}) {
		t.Errorf("calls %v", got)
	}
	a := nrFind(items, "voice_agent_id", 801)
	if a == nil || a["name"] != "Denver After-Hours Receptionist" || fmt.Sprint(a["org_unit_id"]) != "1042" || a["greeting"] == nil || a["language"] != "en-US" {
		t.Errorf("agent 801: %v", a)
	}

	two := nrItems(t, env.OK(t, "list_voice_agents", `{"org_unit_ids":[1042,1043],"sortBy":"name","sortOrder":"ASC"}`), "voice_agents")
	if len(two) != 2 || two[0]["name"] != "Denver After-Hours Receptionist" || two[1]["name"] != "Phoenix Scheduling Assistant" {
		t.Errorf("org units 1042+1043 by name: %v", two)
	}
	if s := nrItems(t, env.OK(t, "list_voice_agents", `{"search":"clinic"}`), "voice_agents"); len(s) != 1 || fmt.Sprint(s[0]["voice_agent_id"]) != "803" {
		t.Errorf("search clinic: %v", s)
	}
	if s := nrItems(t, env.OK(t, "list_voice_agents", `{"id":805,"status":"deleted"}`), "voice_agents"); len(s) != 1 {
		t.Errorf("deleted agent 805 by id: %v", s)
	}
	page := env.OK(t, "list_voice_agents", `{"limit":2}`)
	if page["count"].(float64) != 2 || page["total"].(float64) != 5 || page["next_offset"].(float64) != 2 {
		t.Errorf("limit 2: %v", page)
	}
	nrRejects(t, env, "list_voice_agents", map[string]string{
		`{"id":0}`:                  "id",
		`{"org_unit_ids":["West"]}`: "org_unit_ids",
		`{"org_unit_ids":1042}`:     "org_unit_ids",
		`{"sortOrder":"asc"}`:       "sortOrder",
		`{"sortBy":[]}`:             "sortBy",
		`{"status":"paused"}`:       "status",
		`{"limit":0}`:               "limit",
		`{"org_unit_id":1042}`:      "org_unit_id",
	})
}

func TestVoiceAgentWrites(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	out := env.OK(t, "create_voice_agent", `{"name":"Boston Intake","org_unit_id":1050,"greeting":"Boston Clinic Group, hello!","language":"en-US"}`)
	id := out["voice_agent_id"]
	if out["status"] != "created" || id == nil {
		t.Fatalf("create: %v", out)
	}
	a := env.OK(t, "get_voice_agent", fmt.Sprintf(`{"id":%v}`, id))
	if a["name"] != "Boston Intake" || a["greeting"] != "Boston Clinic Group, hello!" || a["status"] != "active" || fmt.Sprint(a["org_unit_id"]) != "1050" {
		t.Errorf("created agent: %v", a)
	}

	env.OK(t, "replace_voice_agent", fmt.Sprintf(`{"id":%v,"name":"Boston Intake 2","org_unit_id":1051,"status":"inactive","greeting":"Hi","instructions":"Be kind.","voice":"sage","language":"es-US"}`, id))
	a = env.OK(t, "get_voice_agent", fmt.Sprintf(`{"id":%v}`, id))
	if a["name"] != "Boston Intake 2" || fmt.Sprint(a["org_unit_id"]) != "1051" || a["status"] != "inactive" || a["voice"] != "sage" || a["language"] != "es-US" || a["instructions"] != "Be kind." {
		t.Errorf("after replace: %v", a)
	}
	env.OK(t, "update_voice_agent", fmt.Sprintf(`{"id":%v,"status":"active"}`, id))
	a = env.OK(t, "get_voice_agent", fmt.Sprintf(`{"id":%v}`, id))
	if a["status"] != "active" || a["name"] != "Boston Intake 2" {
		t.Errorf("after update: %v", a)
	}
	if msg := env.Fail(t, "create_voice_agent", `{"name":"X","org_unit_id":9999}`); !strings.Contains(msg, "org unit 9999") {
		t.Errorf("unknown org unit: %s", msg)
	}

	nrRejects(t, env, "create_voice_agent", map[string]string{
		`{"org_unit_id":1042}`: "name",
		`{"name":"X"}`:         "org_unit_id",
		`{"name":"X","org_unit_id":1042,"language":"english"}`: "language",
		`{"name":"X","org_unit_id":1042,"status":"deleted"}`:   "status",
		`{"name":"X","org_unit_id":1042,"prompt":"hi"}`:        "prompt",
	})
	nrRejects(t, env, "update_voice_agent", map[string]string{
		`{"id":801}`:           "at least one field",
		`{"id":801,"name":""}`: "name",
	})
	nrRejects(t, env, "replace_voice_agent", map[string]string{
		`{"id":801,"name":"X","org_unit_id":1042,"status":"active"}`: "greeting",
	})
}

func TestDeleteVoiceAgent(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	tok := nrAsk(t, env, "delete_voice_agent", `{"id":802}`, `Delete voice agent 802 "Phoenix Scheduling Assistant" (org unit 1043, active)`)
	if a := env.OK(t, "get_voice_agent", `{"id":802}`); a["status"] != "active" {
		t.Fatalf("the unconfirmed call deleted the agent: %v", a)
	}
	env.App.Sandbox.ResetCalls()
	nrConfirm(t, env, "delete_voice_agent", `{"id":802}`, tok)
	if got := nrBusinessCalls(env); !slices.Equal(got, []string{"DELETE /v3/ai-voice-agents/802"}) {
		t.Errorf("confirmed delete sent %v", got)
	}
	if a := env.OK(t, "get_voice_agent", `{"id":802}`); a["status"] != "deleted" {
		t.Errorf("after delete: %v", a)
	}
	if nrFind(nrItems(t, env.OK(t, "list_voice_agents", `{}`), "voice_agents"), "voice_agent_id", 802) != nil {
		t.Error("a deleted agent is listed by default")
	}
	nrBlocked(t, env, "delete_voice_agent", `{"id":802}`, "already deleted")
	nrBlocked(t, env, "delete_voice_agent", `{"id":9999}`, "does not exist")
}

// The body fields of voice agents are not public: the id may come as id.
func TestVoiceAgentIDSpellings(t *testing.T) {
	for _, raw := range []string{`{"voice_agent_id":7,"name":"A"}`, `{"id":7,"name":"A"}`, `{"id":"7","name":"A"}`} {
		var v convirza.VoiceAgent
		if err := json.Unmarshal([]byte(raw), &v); err != nil || v.VoiceAgentID != 7 || v.Name != "A" {
			t.Errorf("%s: %+v, %v", raw, v, err)
		}
	}
}
