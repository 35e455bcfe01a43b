package sandbox

import (
	"sort"
	"time"
)

type orgUnit struct {
	id, parentID, topID, billingID int64
	Name, ExtID, Status            string
	Address, City, State, Zip      string
	Phone, Timezone                string
	IndustryID                     int64
	created, modified              time.Time
	deletedAt                      time.Time
	deletedBy                      int64
}

type user struct {
	id                   int64
	FirstName, LastName  string
	Email, ExtID, Status string
	roleID               int
	ouID                 int64
	created              time.Time
	password             string
	AgentRingTo, AgentID string
	Timezone             string
	AccessAudio          bool
	ScoreCall            bool
	AgentCode            string
}

type industry struct {
	ID    int64  `json:"industry_id"`
	Name  string `json:"industry_name"`
	Group string `json:"industry_group"`
}

type state struct {
	units      map[int64]*orgUnit
	users      map[int64]*user
	industries []industry
	nextUnit   int64
	nextUser   int64

	webhooks                                         map[int64]*webhook
	nextWebhook                                      int64
	tags                                             map[int64]*tag
	nextTag                                          int64
	adSources                                        []adSource
	calls                                            []*call
	smsThreads                                       []*smsThread
	broadcasts                                       map[int64]*broadcast
	nextBroadcast                                    int64
	numbers                                          map[string]*phoneNumber // by its 10 digits: the carrier's stock and the account's numbers
	routes                                           map[int64]*route
	voiceAgents                                      map[int64]*voiceAgent
	media                                            map[int64]*mediaPrompt
	nextNumber, nextRoute, nextVoiceAgent, nextMedia int64

	access    map[string]*grant
	refresh   map[string]*grant
	logins    map[string][]time.Time
	refreshes int
}

func newState() *state {
	return &state{
		units:   map[int64]*orgUnit{},
		users:   map[int64]*user{},
		access:  map[string]*grant{},
		refresh: map[string]*grant{},
		logins:  map[string][]time.Time{},
	}
}

// unitIDs returns every unit id in ascending order (deterministic output).
func (st *state) unitIDs() []int64 {
	ids := make([]int64, 0, len(st.units))
	for id := range st.units {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// userIDs returns every user id in ascending order.
func (st *state) userIDs() []int64 {
	ids := make([]int64, 0, len(st.users))
	for id := range st.users {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// within reports whether unit id is root or one of its descendants.
func (st *state) within(root, id int64) bool {
	for seen := 0; id != 0 && seen < 64; seen++ {
		if id == root {
			return true
		}
		u := st.units[id]
		if u == nil {
			return false
		}
		id = u.parentID
	}
	return false
}

// children returns the direct children of id, in id order.
func (st *state) children(id int64) []*orgUnit {
	var out []*orgUnit
	for _, cid := range st.unitIDs() {
		if u := st.units[cid]; u.parentID == id {
			out = append(out, u)
		}
	}
	return out
}

func (st *state) industryName(id int64) string {
	for _, in := range st.industries {
		if in.ID == id {
			return in.Name
		}
	}
	return ""
}
