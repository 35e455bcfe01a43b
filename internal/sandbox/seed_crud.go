package sandbox

import "time"

// seedCRUD adds the demo account's webhooks, ad sources and tags. Ids,
// names and counts are fixed; times are fixed too (none of them is "recent").
func seedCRUD(st *state) {
	base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	day := 24 * time.Hour

	st.webhooks = map[int64]*webhook{}
	hooks := []webhook{
		{id: 1, Name: "CRM call sync", URL: "https://hooks.summit-demo.example/crm/calls", Method: "POST", Type: "post_call", ouID: 1001, Status: "active",
			params: []webhookParam{{"source", "convirza"}, {"account", "SMA-ROOT"}}},
		{id: 2, Name: "Sales lead routing", URL: "https://routing.summit-demo.example/lookup", Method: "GET", Type: "pre_call", ouID: 1002, Status: "active",
			params: []webhookParam{{"team", "sales"}}},
		{id: 3, Name: "Denver dispatch board", URL: "https://dispatch.denver-hvac.example/api/calls", Method: "POST", Type: "post_call", ouID: 1042, Status: "active"},
		{id: 4, Name: "Phoenix call scoring", URL: "https://scoring.summit-demo.example/phoenix", Method: "POST", Type: "post_call", ouID: 1043, Status: "active"},
		{id: 5, Name: "Clinic appointment bot", URL: "https://bot.boston-clinics.example/inbound", Method: "POST", Type: "pre_call", ouID: 1050, Status: "inactive",
			params: []webhookParam{{"clinic_group", "boston"}}},
		{id: 6, Name: "Legacy Zapier hook", URL: "https://hooks.zapier.example/hooks/catch/123/abc", Method: "POST", Type: "post_call", ouID: 1003, Status: "deleted"},
	}
	for i := range hooks {
		h := hooks[i]
		h.created = base.Add(time.Duration(i) * 3 * day)
		h.modified = h.created.Add(10 * day)
		st.webhooks[h.id] = &h
	}
	st.nextWebhook = 101

	type src struct {
		id     int64
		name   string
		ou     int64
		status string
	}
	for i, a := range []src{
		{1, "Google Ads", 1001, "active"},
		{2, "Bing Ads", 1001, "active"},
		{3, "Facebook Ads", 1001, "active"},
		{4, "Organic Search", 1001, "active"},
		{5, "Direct Mail", 1001, "inactive"},
		{6, "Yelp", 1003, "active"},
		{7, "Billboard I-25", 1042, "active"},
		{8, "Radio WBZ", 1050, "active"},
		{9, "Auto Trader", 1053, "active"},
	} {
		st.adSources = append(st.adSources, adSource{id: a.id, Name: a.name, ouID: a.ou, Status: a.status, created: base.Add(time.Duration(i) * day)})
	}

	st.tags = map[int64]*tag{}
	type tg struct {
		id     int64
		name   string
		kind   string
		ou     int64
		status string
		calls  int
	}
	for i, t := range []tg{
		{1, "Missed Call", "system", 1001, "active", 412},
		{2, "Voicemail", "system", 1001, "active", 187},
		{3, "Spam", "system", 1001, "active", 63},
		{4, "First-Time Caller", "system", 1001, "active", 905},
		{5, "Repeat Caller", "system", 1001, "active", 540},
		{201, "VIP", "user", 1001, "active", 15},
		{211, "Hot Lead", "user", 1002, "active", 37},
		{212, "Follow Up", "user", 1002, "active", 12},
		{213, "Pricing Question", "user", 1002, "active", 21},
		{214, "Closed Won", "user", 1002, "inactive", 8},
		{221, "Service Request", "user", 1042, "active", 74},
		{222, "Emergency", "user", 1042, "active", 9},
		{231, "Estimate Requested", "user", 1043, "active", 26},
		{241, "New Patient", "user", 1051, "active", 48},
		{242, "Appointment Booked", "user", 1051, "active", 33},
		{243, "Insurance Question", "user", 1051, "active", 0},
		{251, "Test Drive", "user", 1053, "active", 19},
		{252, "Trade-In", "user", 1053, "active", 7},
	} {
		created := base.Add(time.Duration(i) * day)
		st.tags[t.id] = &tag{id: t.id, Name: t.name, Type: t.kind, ouID: t.ou, Status: t.status, callCount: t.calls, created: created, modified: created}
	}
	st.nextTag = 5001
}
