package talkdesksim

import (
	"fmt"
	"time"
)

type phone struct {
	number, kind string
}

type record struct {
	id                string
	phones            []phone
	first, last, tz   string
	priority          int64 // 0: unset
	extProvider       string
	extID, extURL     string
	syncExtID         *bool
	extra             map[string]any
	created, modified time.Time
}

type recordList struct {
	id, name          string
	uniqueType        string // PHONE_NUMBER, EXTERNAL or NOTHING
	status            string
	created, modified time.Time
	records           []*record
}

type grant struct {
	exp   time.Time
	scope []string
}

type state struct {
	lists  map[string]*recordList
	order  []string // list ids, oldest first
	tokens map[string]*grant
	issued int
	nextID int
}

func (st *state) newID(prefix string) string {
	st.nextID++
	return fmt.Sprintf("%s-0000-4000-8000-%012d", prefix, st.nextID)
}

func (st *state) list(id string) (*recordList, *apiError) {
	l := st.lists[id]
	if l == nil {
		return nil, notFound("Record list " + id)
	}
	return l, nil
}

// seed builds the two demo record lists: "Spring Campaign" (records
// unique by phone number, five records) and "Win-back Q3" (records unique by
// Salesforce id, 120 records: more than one page).
func seed() *state {
	st := &state{lists: map[string]*recordList{}, tokens: map[string]*grant{}}
	base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	spring := &recordList{id: SpringCampaignListID, name: "Spring Campaign", uniqueType: "PHONE_NUMBER", status: "ACCEPTED", created: base, modified: base.Add(2 * time.Hour)}
	people := []struct{ first, last, phone, kind, tz string }{
		{"Ava", "Thompson", "+13035550101", "MOBILE", "America/Denver"},
		{"Ben", "Carter", "+13035550102", "HOME", "America/Denver"},
		{"Chloe", "Nguyen", "+13035550103", "MOBILE", "America/Chicago"},
		{"Daniel", "Ortiz", "+13035550104", "OFFICE", "America/New_York"},
		{"Ella", "Fischer", "+13035550105", "MOBILE", "America/Los_Angeles"},
	}
	for i, p := range people {
		t := base.Add(time.Duration(i+1) * time.Minute)
		rec := &record{id: st.newID("2b7f5e90"), phones: []phone{{p.phone, p.kind}}, first: p.first, last: p.last, tz: p.tz,
			priority: int64(5 + i%3), extra: map[string]any{"campaign": "spring"}, created: t, modified: t}
		if i == 2 {
			rec.phones = append(rec.phones, phone{"+13035550113", "OFFICE"})
		}
		spring.records = append(spring.records, rec)
	}
	winback := &recordList{id: WinBackListID, name: "Win-back Q3", uniqueType: "EXTERNAL", status: "ACCEPTED", created: base.Add(24 * time.Hour), modified: base.Add(26 * time.Hour)}
	firsts := []string{"Liam", "Mia", "Noah", "Zoe", "Omar", "Iris", "Hugo", "Lena", "Ravi", "Nora"}
	lasts := []string{"Baker", "Silva", "Kowalski", "Haddad", "Moreau", "Tanaka", "Okafor", "Larsen", "Rossi", "Quinn", "Patel", "Novak"}
	sync := true
	for i := 0; i < 120; i++ {
		t := winback.created.Add(time.Duration(i) * time.Second)
		winback.records = append(winback.records, &record{
			id:     st.newID("2b7f5e90"),
			phones: []phone{{fmt.Sprintf("+1720555%04d", 1000+i), "MOBILE"}},
			first:  firsts[i%len(firsts)], last: lasts[i%len(lasts)], tz: "America/Denver",
			extProvider: "salesforce", extID: fmt.Sprintf("003DL%010dAAA", 4200+i),
			extURL: fmt.Sprintf("https://summit-demo.my.salesforce.com/003DL%010dAAA", 4200+i), syncExtID: &sync,
			created: t, modified: t,
		})
	}
	for _, l := range []*recordList{spring, winback} {
		st.lists[l.id] = l
		st.order = append(st.order, l.id)
	}
	return st
}
