package sandbox

import "time"

// seed builds the demo account: "Summit Marketing Agency", an agency whose
// root org unit is the billing unit, with regions, offices (some with users,
// some empty leaves), one inactive and one deleted group, and users of the
// three roles. Ids and names never change; times are fixed except where a
// resource is "recent" relative to now.
func seed(now time.Time) *state {
	st := newState()
	base := time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)
	st.industries = []industry{
		{ID: 10, Name: "Marketing Agency", Group: "Professional Services"},
		{ID: 11, Name: "Home Services", Group: "Home & Garden"},
		{ID: 12, Name: "Automotive", Group: "Retail"},
		{ID: 13, Name: "Healthcare", Group: "Health"},
		{ID: 14, Name: "Legal", Group: "Professional Services"},
		{ID: 15, Name: "Real Estate", Group: "Property"},
	}
	type u struct {
		id, parent int64
		name, ext  string
		city, st   string
		industry   int64
		status     string
	}
	units := []u{
		{1001, 0, "Summit Marketing Agency", "SMA-ROOT", "New York", "NY", 10, "active"},
		{1002, 1001, "Sales Division", "ORG-1002", "New York", "NY", 10, "active"},
		{1003, 1001, "West", "ORG-1003", "Denver", "CO", 11, "active"},
		{1004, 1001, "East", "ORG-1004", "Boston", "MA", 13, "active"},
		{1005, 1001, "Support Center", "ORG-1005", "Austin", "TX", 10, "active"},
		{1010, 1002, "Inside Sales", "ORG-1010", "New York", "NY", 10, "active"},
		{1011, 1002, "Enterprise Sales", "ORG-1011", "Chicago", "IL", 10, "active"},
		{1042, 1003, "Denver Office", "ORG-1042", "Denver", "CO", 11, "active"},
		{1043, 1003, "Phoenix Office", "ORG-1043", "Phoenix", "AZ", 11, "active"},
		{1044, 1003, "Salt Lake Office", "ORG-1044", "Salt Lake City", "UT", 15, "inactive"},
		{1050, 1004, "Boston Clinic Group", "ORG-1050", "Boston", "MA", 13, "active"},
		{1051, 1050, "Cambridge Clinic", "ORG-1051", "Cambridge", "MA", 13, "active"},
		{1052, 1050, "Quincy Clinic", "ORG-1052", "Quincy", "MA", 13, "active"},
		{1053, 1004, "Hartford Auto Mall", "ORG-1053", "Hartford", "CT", 12, "active"},
		{1060, 1005, "Tier 1 Support", "ORG-1060", "Austin", "TX", 10, "active"},
		{1061, 1001, "Miami Office (closed)", "ORG-1061", "Miami", "FL", 15, "deleted"},
	}
	for i, x := range units {
		created := base.Add(time.Duration(i) * 24 * time.Hour)
		ou := &orgUnit{
			id: x.id, parentID: x.parent, topID: 1001, billingID: 1001,
			Name: x.name, ExtID: x.ext, Status: x.status,
			Address: "100 Main St", City: x.city, State: x.st, Zip: "10001",
			Phone: "+1-212-555-01" + twoDigits(i), Timezone: "America/New_York",
			IndustryID: x.industry, created: created, modified: created.Add(30 * 24 * time.Hour),
		}
		if x.status == "deleted" {
			ou.deletedAt, ou.deletedBy = created.Add(60*24*time.Hour), 1
		}
		st.units[x.id] = ou
	}
	st.nextUnit = 2001

	type usr struct {
		id          int64
		first, last string
		email       string
		role        int
		ou          int64
		status      string
		password    string
	}
	users := []usr{
		{1, "Avery", "Admin", DemoEmail, roleAdmin, 1001, "active", DemoPassword},
		{2, "Sam", "Standard", StandardEmail, roleStandard, 1001, "active", DemoPassword},
		{3, "Riley", "Reader", ReadOnlyEmail, roleReadOnly, 1001, "active", DemoPassword},
		{12345, "John", "Smith", "john.smith@summit-demo.example", roleStandard, 1010, "active", ""},
		{12346, "Maria", "Garcia", "maria.garcia@summit-demo.example", roleStandard, 1010, "active", ""},
		{12347, "Wei", "Chen", "wei.chen@summit-demo.example", roleAdmin, 1011, "active", ""},
		{12348, "Priya", "Patel", "priya.patel@summit-demo.example", roleStandard, 1043, "active", ""},
		{12349, "Luis", "Ramirez", "luis.ramirez@summit-demo.example", roleReadOnly, 1043, "inactive", ""},
		{12350, "Grace", "Kim", "grace.kim@summit-demo.example", roleStandard, 1051, "active", ""},
		{12351, "Omar", "Haddad", "omar.haddad@summit-demo.example", roleStandard, 1052, "active", ""},
		{12352, "Emma", "Johnson", "emma.johnson@summit-demo.example", roleStandard, 1053, "active", ""},
		{12353, "Noah", "Williams", "noah.williams@summit-demo.example", roleReadOnly, 1060, "active", ""},
		{12354, "Olivia", "Brown", "olivia.brown@summit-demo.example", roleStandard, 1060, "active", ""},
		{12355, "Liam", "Davis", "liam.davis@summit-demo.example", roleStandard, 1061, "deleted", ""},
	}
	for i, x := range users {
		st.users[x.id] = &user{
			id: x.id, FirstName: x.first, LastName: x.last, Email: x.email, ExtID: "EXT-" + twoDigits(i),
			Status: x.status, roleID: x.role, ouID: x.ou, created: base.Add(time.Duration(i) * 36 * time.Hour),
			password: x.password, AgentRingTo: "+1303555" + twoDigits(i) + "00", AgentID: "AG" + twoDigits(i),
			Timezone: "America/Denver", AccessAudio: x.role != roleReadOnly,
		}
	}
	st.nextUser = 20001
	seedCRUD(st)
	seedNumbersAndRoutes(st) // before the calls, which come in on its routes
	seedConversations(st, now)
	seedBroadcasts(st, now)
	seedVoiceAgents(st)
	seedMedia(st)
	return st
}

func twoDigits(i int) string {
	return string([]byte{byte('0' + (i/10)%10), byte('0' + i%10)})
}
