package tools_test

// Org-unit scope of the account administration toolsets: users, webhooks,
// media prompts, voice agents (see scope_test.go).

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestScopeUsers(t *testing.T) {
	s := newScoped(t)

	list := s.pinned(t, "list_users", `{}`, "/v3/users/list")
	users := items(t, list, "users")
	inWest(t, "list_users", users, "group_org_unit_id")
	if got := ids(users, "ct_user_id"); !slices.Contains(got, 12348) || num(list["total"]) != int64(len(users)) {
		t.Errorf("list_users pinned to West: %v", list)
	}
	s.refuse(t, "list_users", `{"org_unit_id":1002}`)

	if u := s.OK(t, "get_user", `{"id":12348}`); u["first_name"] != "Priya" {
		t.Errorf("get_user 12348: %v", u)
	}
	s.refuse(t, "get_user", `{"id":12345}`, "GET /v3/users/12345")
	// A user whose group cannot be found is refused too (fail closed).
	if msg := s.Fail(t, "get_user", `{"id":99999}`); !strings.Contains(msg, "scope could not be checked") || !strings.Contains(msg, "User 99999 not found") {
		t.Errorf("get_user 99999: %s", msg)
	}
	if d := s.lastDecision(t, "get_user"); d["decision"] != "denied" {
		t.Errorf("get_user 99999: audit decision %v", d["decision"])
	}

	s.refuse(t, "create_user", `{"username":"x@example.com","first_name":"X","last_name":"Y","ct_user_ou_id":1002,"role":"Standard"}`)
	created := s.OK(t, "create_user", `{"username":"west@example.com","first_name":"Wes","last_name":"T","ct_user_ou_id":1042,"role":"Standard"}`)

	// Not touched outside, not moved out (the new unit is checked before
	// any read), not moved in from outside.
	s.refuse(t, "update_user", `{"id":12345,"first_name":"X"}`, "GET /v3/users/12345")
	s.refuse(t, "update_user", `{"id":12348,"ct_user_ou_id":1002}`)
	s.refuse(t, "update_user", `{"id":12345,"ct_user_ou_id":1042}`, "GET /v3/users/12345")
	s.refuse(t, "replace_user", `{"id":12348,"username":"priya.patel@summit-demo.example","first_name":"Priya","last_name":"Patel","ct_user_ou_id":1051,"role":"Standard","user_ext_id":"","user_status":"active","timezone":"America/Phoenix","agent_ring_to":"","agent_code":"","score_call":false,"access_audio":true}`)
	s.OK(t, "update_user", `{"id":12348,"ct_user_ou_id":1042}`)
	if u := s.OK(t, "get_user", `{"id":12348}`); num(u["group_org_unit_id"]) != 1042 {
		t.Errorf("moved within West: %v", u)
	}

	// A destructive call out of scope is refused before its preview.
	s.refuse(t, "delete_user", `{"id":12345}`, "GET /v3/users/12345")
	confirmToken(t, s.Env, "delete_user", fmt.Sprintf(`{"id":%d}`, num(created["ct_user_id"])))
}

func TestScopeWebhooks(t *testing.T) {
	s := newScoped(t)

	list := s.pinned(t, "list_webhooks", `{}`, "/v3/webhooks/list")
	hooks := items(t, list, "webhooks")
	inWest(t, "list_webhooks", hooks, "org_unit_id")
	if got := ids(hooks, "webhook_id"); !slices.Equal(got, []int64{3, 4}) {
		t.Errorf("list_webhooks pinned to West: %v", got)
	}
	s.refuse(t, "list_webhooks", `{"org_unit_id":1001}`)

	s.OK(t, "get_webhook", `{"id":3}`)
	s.refuse(t, "get_webhook", `{"id":2}`, "GET /v3/webhooks/2")
	s.refuse(t, "get_webhook", `{"id":1}`, "GET /v3/webhooks/1") // on the account's top unit, above the scope

	s.refuse(t, "create_webhook", `{"webhook_name":"x","webhook_url":"https://x.example/h","webhook_type":"post_call","org_unit_id":1002}`)
	s.OK(t, "create_webhook", `{"webhook_name":"x","webhook_url":"https://x.example/h","webhook_type":"post_call","org_unit_id":1043}`)

	s.refuse(t, "update_webhook", `{"id":3,"org_unit_id":1002}`)
	s.refuse(t, "update_webhook", `{"id":2,"status":"inactive"}`, "GET /v3/webhooks/2")
	s.refuse(t, "replace_webhook", `{"id":4,"webhook_name":"P","webhook_url":"https://x.example/p","webhook_type":"post_call","org_unit_id":1050,"method":"POST","static_params":[],"status":"active"}`)
	s.OK(t, "update_webhook", `{"id":3,"org_unit_id":1043}`)

	s.refuse(t, "delete_webhook", `{"id":1}`, "GET /v3/webhooks/1")
	confirmToken(t, s.Env, "delete_webhook", `{"id":4}`)
}

func TestScopeMedia(t *testing.T) {
	s := newScoped(t)

	// The list has no org-unit filter: it is read whole and limited to the
	// scope, and says nothing of what other units hold.
	list := s.OK(t, "list_media_prompts", `{}`)
	prompts := items(t, list, "media_prompts")
	inWest(t, "list_media_prompts", prompts, "org_unit_id")
	if got := ids(prompts, "media_prompt_id"); !slices.Equal(got, []int64{3002, 3003}) || num(list["total"]) != 2 || num(list["count"]) != 2 {
		t.Errorf("list_media_prompts: %v", list)
	}
	if _, ok := list["scope"]; ok {
		t.Errorf("a note about other units' prompts: %v", list)
	}

	// An upload naming no unit goes to the scope's, not the caller's.
	wav := nrB64(nrAudio["wav"])
	up := s.OK(t, "upload_media_prompt", fmt.Sprintf(`{"name":"West hold music","type":"prompt","content":%q,"filename":"hold.wav"}`, wav))
	found := false
	for _, p := range items(t, s.OK(t, "list_media_prompts", `{"name":"West hold"}`), "media_prompts") {
		if num(p["media_prompt_id"]) == num(up["media_prompt_id"]) {
			found = num(p["org_unit_id"]) == 1003
		}
	}
	if !found {
		t.Errorf("the upload was not pinned to 1003: %v", up)
	}
	s.refuse(t, "upload_media_prompt", fmt.Sprintf(`{"name":"x","type":"prompt","org_unit_id":1051,"content":%q,"filename":"x.wav"}`, wav))

	s.refuse(t, "delete_media_prompt", `{"id":3004}`, "GET /v3/media-prompts")
	confirmToken(t, s.Env, "delete_media_prompt", `{"id":3002}`)
}

func TestScopeVoiceAgents(t *testing.T) {
	s := newScoped(t)

	// org_unit_ids match exactly, so a list naming none is read whole and
	// paged within the scope.
	list := s.OK(t, "list_voice_agents", `{}`)
	agents := items(t, list, "voice_agents")
	inWest(t, "list_voice_agents", agents, "org_unit_id")
	if got := ids(agents, "voice_agent_id"); len(got) != 2 || !slices.Contains(got, 801) || !slices.Contains(got, 802) || num(list["total"]) != 2 {
		t.Errorf("list_voice_agents: %v", list)
	}
	// A partial page has the scope's total and offsets.
	page := s.OK(t, "list_voice_agents", `{"limit":1}`)
	inWest(t, "list_voice_agents limit 1", items(t, page, "voice_agents"), "org_unit_id")
	if num(page["total"]) != 2 || num(page["count"]) != 1 || num(page["next_offset"]) != 1 || page["scope"] != nil {
		t.Errorf("a scoped partial page: %v", page)
	}
	next := s.OK(t, "list_voice_agents", `{"limit":1,"offset":1}`)
	if got := ids(items(t, next, "voice_agents"), "voice_agent_id"); len(got) != 1 || got[0] == ids(items(t, page, "voice_agents"), "voice_agent_id")[0] || next["next_offset"] != nil {
		t.Errorf("the scoped second page: %v", next)
	}
	s.OK(t, "list_voice_agents", `{"org_unit_ids":[1042]}`)
	s.refuse(t, "list_voice_agents", `{"org_unit_ids":[1042,1051]}`)

	s.OK(t, "get_voice_agent", `{"id":801}`)
	s.refuse(t, "get_voice_agent", `{"id":803}`, "GET /v3/ai-voice-agents/803")

	s.refuse(t, "create_voice_agent", `{"name":"x","org_unit_id":1051}`)
	s.OK(t, "create_voice_agent", `{"name":"x","org_unit_id":1044}`)

	s.refuse(t, "update_voice_agent", `{"id":801,"org_unit_id":1051}`)
	s.refuse(t, "update_voice_agent", `{"id":806,"name":"x"}`, "GET /v3/ai-voice-agents/806")
	s.refuse(t, "replace_voice_agent", `{"id":802,"name":"x","org_unit_id":1010,"status":"active","greeting":"","instructions":"","voice":"aria","language":"en-US"}`)
	s.OK(t, "update_voice_agent", `{"id":801,"org_unit_id":1043}`)

	s.refuse(t, "delete_voice_agent", `{"id":806}`, "GET /v3/ai-voice-agents/806")
	confirmToken(t, s.Env, "delete_voice_agent", `{"id":802}`)
}
