package schemas

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestE164(t *testing.T) {
	ok := map[string]string{
		"3035550101":        "+13035550101",
		"303-555-0101":      "+13035550101",
		"(303) 555-0101":    "+13035550101",
		"303.555.0101":      "+13035550101",
		"13035550101":       "+13035550101",
		"1 (303) 555-0101":  "+13035550101",
		"+13035550101":      "+13035550101",
		"+1 303 555 0101":   "+13035550101",
		" +44 20 7946 0958": "+442079460958",
		"+4930123456":       "+4930123456",
	}
	for in, want := range ok {
		if got, err := E164(in); err != nil || got != want {
			t.Errorf("E164(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                  "10 North American digits",
		"555-0101":          "10 North American digits",
		"0303555010":        "10 North American digits",
		"1135550101":        "10 North American digits",
		"23035550101":       "10 North American digits",
		"442079460958":      "country code",
		"+0442079460958":    "E.164",
		"+123456":           "E.164",
		"+1234567890123456": "E.164",
		"303-555-O101":      "not a phone number",
		"+1 303 555 0101 x": "not a phone number",
		"++13035550101":     "not a phone number",
	}
	for in, want := range bad {
		if got, err := E164(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("E164(%q) = %q, %v; want an error saying %q", in, got, err, want)
		}
	}
}

// TestNormalisingValidators: argument types rewrite phone numbers and state
// codes in place, on the pointer the tool pipeline validates.
func TestNormalisingValidators(t *testing.T) {
	calls := &ListCallsArgs{CallerID: "3035550101"}
	if err := calls.Validate(); err != nil || calls.CallerID != "+13035550101" {
		t.Errorf("caller_id: %q, %v", calls.CallerID, err)
	}
	search := &SearchNumbersArgs{State: "co"}
	if err := search.Validate(); err != nil || search.State != "CO" {
		t.Errorf("search state: %q, %v", search.State, err)
	}
	st := "ny"
	patch := &UpdateGroupArgs{ID: 1, GroupPatch: GroupPatch{State: &st}}
	if err := patch.Validate(); err != nil || *patch.State != "NY" {
		t.Errorf("patch state: %q, %v", *patch.State, err)
	}
	from := "720 555 0100"
	up := &UpdateBroadcastArgs{ID: 1, BroadcastPatch: BroadcastPatch{FromNumber: &from, Recipients: []string{"720-555-0101"}}}
	if err := up.Validate(); err != nil || *up.FromNumber != "+17205550100" || up.Recipients[0] != "+17205550101" {
		t.Errorf("broadcast patch: %q %q, %v", *up.FromNumber, up.Recipients, err)
	}
}

// TestDocumentedDefaults: defaults the docs state are in the schemas'
// default, where a client can read them; limits the docs give no maximum
// have none.
func TestDocumentedDefaults(t *testing.T) {
	limit := func(args any) map[string]any {
		t.Helper()
		s, err := For(args)
		if err != nil {
			t.Fatal(err)
		}
		return s["properties"].(map[string]any)["limit"].(map[string]any)
	}
	for _, c := range []struct {
		args         any
		def, maximum any
	}{
		{&ListCallsArgs{}, 50, 200},
		{&ListBroadcastsArgs{}, 100, 200},
		{&ListSMSArgs{}, 7, 200},
		{&ListRoutesArgs{}, 100, 500},
		{&ListVoiceAgentsArgs{}, 10, nil},
		{&ListUsersArgs{}, 100, 200},
		{&ListGroupsArgs{}, nil, nil},
		{&ListTagsArgs{}, nil, nil},
		{&ListWebhooksArgs{}, nil, nil},
	} {
		l := limit(c.args)
		if got, want := jsonOf(l["default"]), jsonOf(c.def); got != want {
			t.Errorf("%T limit default %s, want %s", c.args, got, want)
		}
		if got, want := jsonOf(l["maximum"]), jsonOf(c.maximum); got != want {
			t.Errorf("%T limit maximum %s, want %s", c.args, got, want)
		}
	}
	s, err := For(&ListVoiceAgentsArgs{})
	if err != nil {
		t.Fatal(err)
	}
	sortBy := s["properties"].(map[string]any)["sortBy"].(map[string]any)
	if sortBy["default"] != "created_on" || sortBy["enum"] != nil {
		t.Errorf("sortBy: %v (the docs give its default, not its values)", sortBy)
	}
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
