package tools

import (
	"testing"
)

// searchCases are requests as operators phrase them, and the tool that
// answers each.
var searchCases = []struct{ query, want string }{
	{"remove phone numbers from dialer list", "delete_records"},
	{"remove these opted-out numbers from the dialer list", "delete_records"},
	{"delete contacts from a record list", "delete_records"},
	{"add contacts to the outbound dialer list", "create_records"},
	{"change a contact's phone number in the dialer list", "update_records"},
	{"show the contacts in a dialer list", "list_records"},
	{"which dialer lists do we have", "list_record_lists"},
	{"create a new call list for the dialer", "create_record_list"},
	{"delete a whole record list", "delete_record_list"},
	{"release the tracking numbers of the closed Denver office", "release_phone_number"},
	{"give up a tracking number", "release_phone_number"},
	{"buy a new phone number", "order_phone_number"},
	{"find available numbers in area code 303", "search_available_numbers"},
	{"which numbers does the account own", "list_assigned_numbers"},
	{"numbers used by routes", "list_provisioned_numbers"},
	{"who called the sales division yesterday and was not answered", "list_calls"},
	{"missed calls last week", "list_calls"},
	{"get the recording of a call", "get_call"},
	{"transcript of call 123", "get_call"},
	{"how many calls did each office get last month", "summarize_calls"},
	{"sms threads waiting for a reply", "list_sms_conversations"},
	{"text message conversations", "list_sms_conversations"},
	{"send an sms to our customers", "create_broadcast"},
	{"cancel the scheduled text blast", "delete_broadcast"},
	{"reschedule a broadcast", "update_broadcast"},
	{"list sms campaigns", "list_broadcasts"},
	{"show the org unit hierarchy", "get_group_tree"},
	{"find the Denver office group", "list_groups"},
	{"add a new office", "create_group"},
	{"rename a group", "update_group"},
	{"delete the empty office", "delete_group"},
	{"add a user to the Phoenix office", "create_user"},
	{"deactivate a user", "update_user"},
	{"remove a user", "delete_user"},
	{"who has access to the account", "list_users"},
	{"where does this tracking number ring", "list_provisioned_routes"},
	{"point a number at a new ring-to number", "update_provisioned_route"},
	{"set up call forwarding for a new campaign", "create_provisioned_route"},
	{"delete a route", "delete_provisioned_route"},
	{"add a post-call webhook", "create_webhook"},
	{"pause a webhook", "update_webhook"},
	{"upload a whisper recording", "upload_media_prompt"},
	{"voicemail greetings we have", "list_media_prompts"},
	{"create an AI receptionist", "create_voice_agent"},
	{"call tags of an office", "list_tags"},
	{"label calls with a new tag", "create_tag"},
	{"who am I logged in as", "get_profile"},
	{"marketing channels calls come from", "list_ad_sources"},
}

// TestSearchRecall measures search_tools on requests written for it: the
// wanted tool must be among the first three for at least 95% of them.
func TestSearchRecall(t *testing.T) {
	all := All()
	known := map[string]bool{}
	for _, tl := range all {
		known[tl.Name] = true
	}
	hits, total := 0, 0
	for _, c := range searchCases {
		if !known[c.want] {
			continue // a tool this build does not have yet
		}
		total++
		res := searchTools(all, c.query, 3)
		found := false
		for _, h := range res["tools"].([]searchHit) {
			if h.Name == c.want {
				found = true
			}
		}
		if found {
			hits++
			continue
		}
		var got []string
		for _, h := range res["tools"].([]searchHit) {
			got = append(got, h.Name)
		}
		t.Logf("miss: %q → %v, want %s", c.query, got, c.want)
	}
	recall := float64(hits) / float64(total)
	t.Logf("search_tools recall at 3: %d of %d requests (%.1f%%)", hits, total, 100*recall)
	if total < 40 || recall < 0.95 {
		t.Errorf("recall at 3 is %.1f%% over %d requests; want ≥ 95%% over ≥ 40", 100*recall, total)
	}
}
