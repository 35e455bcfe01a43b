package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

func getPrompt(t *testing.T, env *testenv.Env, name string, args map[string]string) (string, error) {
	t.Helper()
	req := mcp.GetPromptRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	res, err := env.Client.GetPrompt(context.Background(), req)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, m := range res.Messages {
		if tc, ok := m.Content.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), nil
}

func completeArg(t *testing.T, env *testenv.Env, prompt, arg, value string) []string {
	t.Helper()
	req := mcp.CompleteRequest{}
	req.Params.Ref = mcp.PromptReference{Type: "ref/prompt", Name: prompt}
	req.Params.Argument = mcp.CompleteArgument{Name: arg, Value: value}
	res, err := env.Client.Complete(context.Background(), req)
	if err != nil {
		t.Fatalf("complete %s.%s %q: %v", prompt, arg, value, err)
	}
	return res.Completion.Values
}

func readResource(t *testing.T, env *testenv.Env, uri string) (string, error) {
	t.Helper()
	req := mcp.ReadResourceRequest{}
	req.Params.URI = uri
	res, err := env.Client.ReadResource(context.Background(), req)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, c := range res.Contents {
		if tc, ok := c.(mcp.TextResourceContents); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), nil
}

func TestPromptsForTheMainWorkflows(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{"", mcp.ProtocolVersion20250618} {
		env := testenv.New(t, testenv.Options{Protocol: proto})
		list, err := env.Client.ListPrompts(context.Background(), mcp.ListPromptsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range list.Prompts {
			names = append(names, p.Name)
		}
		if got := strings.Join(names, ","); got != "dialer_opt_out,missed_calls_report,new_office_setup,number_cleanup" {
			t.Errorf("%s prompts: %s", proto, got)
		}
		text, err := getPrompt(t, env, "missed_calls_report", map[string]string{"org_unit": "denver office", "days": "30"})
		if err != nil || !strings.Contains(text, "Denver Office (org unit 1042)") || !strings.Contains(text, "summarize_calls") || !strings.Contains(text, "30 days") {
			t.Errorf("missed_calls_report: %v\n%s", err, text)
		}
		text, err = getPrompt(t, env, "number_cleanup", map[string]string{"org_unit": "1043"})
		if err != nil || !strings.Contains(text, "Phoenix Office (org unit 1043)") || !strings.Contains(text, "release_phone_number") {
			t.Errorf("number_cleanup: %v\n%s", err, text)
		}
		if _, err := getPrompt(t, env, "number_cleanup", nil); err == nil || !strings.Contains(err.Error(), "org_unit") {
			t.Errorf("number_cleanup without org_unit: %v", err)
		}
		if _, err := getPrompt(t, env, "missed_calls_report", map[string]string{"days": "a week"}); err == nil {
			t.Error("missed_calls_report accepted days \"a week\"")
		}
		text, err = getPrompt(t, env, "dialer_opt_out", map[string]string{"record_list": "Spring Campaign", "phone_numbers": "+13035550123"})
		if err != nil || !strings.Contains(text, "delete_records") || !strings.Contains(text, "+13035550123") {
			t.Errorf("dialer_opt_out: %v\n%s", err, text)
		}
		text, err = getPrompt(t, env, "new_office_setup", map[string]string{"office_name": "Boulder Office", "parent": "West", "area_code": "303"})
		if err != nil || !strings.Contains(text, "West (org unit 1003)") || !strings.Contains(text, "order_phone_number") {
			t.Errorf("new_office_setup: %v\n%s", err, text)
		}
	}

	// A prompt whose tools are not served is not offered.
	env := testenv.New(t, testenv.Options{Toolsets: []string{"default"}})
	list, err := env.Client.ListPrompts(context.Background(), mcp.ListPromptsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list.Prompts {
		if p.Name == "dialer_opt_out" {
			t.Error("dialer_opt_out offered without the record_lists toolset")
		}
	}
}

func TestPromptArgumentCompletion(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	if got := completeArg(t, env, "number_cleanup", "org_unit", "den"); fmt.Sprint(got) != "[Denver Office]" {
		t.Errorf("org_unit \"den\": %v", got)
	}
	// Prefix matches first, then names containing the text.
	if got := completeArg(t, env, "missed_calls_report", "org_unit", "sales"); fmt.Sprint(got) != "[Sales Division Inside Sales Enterprise Sales]" {
		t.Errorf("org_unit \"sales\": %v", got)
	}
	if got := completeArg(t, env, "new_office_setup", "parent", ""); len(got) < 10 {
		t.Errorf("parent \"\": %v", got)
	}
	if got := completeArg(t, env, "dialer_opt_out", "record_list", "spr"); fmt.Sprint(got) != "[Spring Campaign]" {
		t.Errorf("record_list \"spr\": %v", got)
	}
	if got := completeArg(t, env, "no_such_prompt", "arg1", "x"); len(got) != 0 {
		t.Errorf("unknown prompt: %v", got)
	}
}

func TestResourcesOrgTreeAndCallMedia(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	res, err := env.Client.ListResources(ctx, mcp.ListResourcesRequest{})
	if err != nil || len(res.Resources) != 1 || res.Resources[0].URI != "convirza://org-tree" {
		t.Fatalf("resources: %v %+v", err, res)
	}
	tpl, err := env.Client.ListResourceTemplates(ctx, mcp.ListResourceTemplatesRequest{})
	if err != nil || len(tpl.ResourceTemplates) != 2 {
		t.Fatalf("templates: %v %+v", err, tpl)
	}
	tree, err := readResource(t, env, "convirza://org-tree")
	if err != nil || !strings.Contains(tree, `"name":"Denver Office"`) {
		t.Errorf("org tree: %v %s", err, tree)
	}

	// get_call links its transcript and recording; reading them works.
	call := callWith(t, env, "transcription")
	out := env.Call(t, "get_call", fmt.Sprintf(`{"id": %d}`, call))
	links := map[string]string{}
	for _, c := range out.Content {
		if l, ok := c.(mcp.ResourceLink); ok {
			links[l.Name] = l.URI
		}
	}
	tr, rec := links[fmt.Sprintf("call-%d-transcript", call)], links[fmt.Sprintf("call-%d-recording", call)]
	if tr != fmt.Sprintf("convirza://calls/%d/transcript", call) || rec != fmt.Sprintf("convirza://calls/%d/recording", call) {
		t.Fatalf("get_call %d links: %v", call, links)
	}
	text, err := readResource(t, env, tr)
	if err != nil || !strings.Contains(text, "Agent:") && !strings.Contains(text, "message for") {
		t.Errorf("transcript: %v %q", err, text)
	}
	text, err = readResource(t, env, rec)
	var r struct {
		URL string `json:"recording_url"`
	}
	if err != nil || json.Unmarshal([]byte(text), &r) != nil || !strings.Contains(r.URL, "/recordings/") {
		t.Errorf("recording: %v %q", err, text)
	}
	if _, err := readResource(t, env, "convirza://calls/12/transcript"); err == nil {
		t.Error("a call that does not exist has a transcript")
	}
}

// callWith finds a recent call whose detail includes the block.
func callWith(t *testing.T, env *testenv.Env, include string) int64 {
	t.Helper()
	res := env.OK(t, "list_calls", fmt.Sprintf(`{"include": [%q, "recordings"], "limit": 200}`, include))
	calls, _ := res["calls"].([]any)
	for _, c := range calls {
		m := c.(map[string]any)
		if m[include] != nil && m["recording_url"] != nil {
			return int64(m["call_id"].(float64))
		}
	}
	t.Fatalf("no call with %s", include)
	return 0
}

func TestResourcesAndCompletionsUnderScope(t *testing.T) {
	t.Parallel()
	full := testenv.New(t, testenv.Options{})
	outside := callIn(t, full, 1010)
	inside := callIn(t, full, 1042)

	env := testenv.New(t, testenv.Options{Policy: "toolsets: [all]\nscope:\n  org_units: [1003]\n"})
	tree, err := readResource(t, env, "convirza://org-tree")
	if err != nil || !strings.Contains(tree, "Denver Office") || strings.Contains(tree, "Inside Sales") {
		t.Errorf("scoped org tree: %v %s", err, tree)
	}
	if _, err := readResource(t, env, fmt.Sprintf("convirza://calls/%d/transcript", inside)); err != nil && !strings.Contains(err.Error(), "no transcript") {
		t.Errorf("a call in the scope: %v", err)
	}
	if _, err := readResource(t, env, fmt.Sprintf("convirza://calls/%d/recording", outside)); err == nil || !strings.Contains(err.Error(), "scope") {
		t.Errorf("a call outside the scope: %v", err)
	}
	if got := completeArg(t, env, "number_cleanup", "org_unit", ""); strings.Contains(fmt.Sprint(got), "Inside Sales") || !strings.Contains(fmt.Sprint(got), "Phoenix Office") {
		t.Errorf("scoped completion: %v", got)
	}
}

func callIn(t *testing.T, env *testenv.Env, unit int64) int64 {
	t.Helper()
	res := env.OK(t, "list_calls", fmt.Sprintf(`{"org_unit_id": %d, "limit": 1}`, unit))
	calls, _ := res["calls"].([]any)
	if len(calls) == 0 {
		t.Fatalf("no call in unit %d", unit)
	}
	return int64(calls[0].(map[string]any)["call_id"].(float64))
}

// TestSummarizeCallsReportsProgress: a client that sends a progress token
// gets a notification per window read, increasing, with the total.
func TestSummarizeCallsReportsProgress(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{Protocol: mcp.ProtocolVersion20250618})
	var mu sync.Mutex
	var seen []float64
	env.Client.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method != "notifications/progress" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if p, ok := n.Params.AdditionalFields["progress"].(float64); ok {
			seen = append(seen, p)
		}
	})
	req := mcp.CallToolRequest{}
	req.Params.Name = "summarize_calls"
	req.Params.Arguments = map[string]any{"start": time.Now().Add(-400 * 24 * time.Hour).UTC().Format(time.RFC3339)}
	req.Params.Meta = &mcp.Meta{ProgressToken: "p1"}
	res, err := env.Client.CallTool(context.Background(), req)
	if err != nil || res.IsError {
		t.Fatalf("summarize_calls: %v %+v", err, res)
	}
	deadline := time.Now().Add(testenv.Patience)
	for {
		mu.Lock()
		n := len(seen)
		got := append([]float64(nil), seen...)
		mu.Unlock()
		if n >= 13 {
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] {
					t.Fatalf("progress does not increase: %v", got)
				}
			}
			if got[len(got)-1] != 13 {
				t.Errorf("last progress %v, want 13 (windows)", got[len(got)-1])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d progress notifications, want one per 31-day window (13): %v", n, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
