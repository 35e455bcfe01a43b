package sandbox

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"
)

// demoLines are the demo account's tracking numbers (fictional 555-01xx
// numbers). Route ids 601-612 and campaign ids 301-308 are simulator choices.
var demoLines = []*trackingLine{
	{601, 1010, 301, "Inside Sales - Google Ads", "+12125550141", "+12125550100", "Google Ads", 9},
	{602, 1010, 304, "Inside Sales - Website", "+12125550142", "+12125550100", "Website", 6},
	{603, 1011, 305, "Enterprise Sales - LinkedIn", "+13125550143", "+13125550110", "LinkedIn", 4},
	{604, 1042, 301, "Denver Office - Google Ads", "+13035550144", "+13035550120", "Google Ads", 8},
	{605, 1042, 306, "Denver Office - Yelp", "+17205550145", "+13035550120", "Yelp", 4},
	{606, 1043, 303, "Phoenix Office - Direct Mail", "+14805550146", "+14805550130", "Direct Mail", 5},
	{607, 1051, 301, "Cambridge Clinic - Google Ads", "+16175550147", "+16175550140", "Google Ads", 6},
	{608, 1052, 302, "Quincy Clinic - Facebook", "+16175550148", "+16175550150", "Facebook", 4},
	{609, 1053, 307, "Hartford Auto Mall - Radio", "+18605550149", "+18605550160", "Radio", 6},
	{610, 1060, 308, "Support Line", "+15125550150", "+15125550170", "Organic", 7},
	{611, 1002, 304, "Sales Division - Main", "+12125550151", "+12125550180", "Website", 3},
	{612, 1050, 302, "Boston Clinic Group - Main", "+16175550152", "+16175550190", "Facebook", 2},
}

var demoAreaCodes = []string{"212", "303", "617", "480", "512", "860", "312", "801", "720", "646"}

func weighted[T any](rng *rand.Rand, items []T, weight func(T) int) T {
	total := 0
	for _, it := range items {
		total += weight(it)
	}
	n := rng.IntN(total)
	for _, it := range items {
		if n -= weight(it); n < 0 {
			return it
		}
	}
	return items[len(items)-1]
}

// seedConversations adds a few hundred calls over the last 30 days and a
// few dozen SMS threads, reproducibly (fixed-seed PCG) relative to now.
func seedConversations(st *state, now time.Time) {
	rng := rand.New(rand.NewPCG(20260301, 7))
	now = now.UTC()
	callers := make([]string, 150)
	for i := range callers {
		callers[i] = "+1" + demoAreaCodes[rng.IntN(len(demoAreaCodes))] + "55501" + twoDigits(rng.IntN(100))
	}
	type disp struct {
		name   string
		weight int
	}
	disps := []disp{{"ANSWERED", 55}, {"NO ANSWER", 12}, {"VOICEMAIL", 10}, {"ABANDONED", 8}, {"TRANSFERRED", 8}, {"BUSY", 4}, {"FAILED", 3}}
	tags := map[string]callTag{}
	for i, n := range []string{"Qualified Lead", "Appointment Set", "Sale", "Missed Opportunity", "Spam", "Existing Customer", "Follow Up"} {
		tags[n] = callTag{id: int64(i + 1), name: n}
	}
	agents := []string{"Avery Admin", "Sam Standard", "John Smith", "Maria Garcia", "Priya Patel", "Grace Kim"}
	notes := []string{
		"Asked about pricing; sent a quote by email.",
		"Wants a call back tomorrow morning.",
		"Booked a visit for next week.",
		"Existing customer with a billing question; resolved.",
		"Compared us with a competitor; follow up Friday.",
		"Wrong number.",
	}
	midnight := now.Truncate(24 * time.Hour)
	var calls []*call
	for range 360 {
		line := weighted(rng, demoLines, func(l *trackingLine) int { return l.weight })
		t := midnight.Add(-time.Duration(rng.IntN(29))*24*time.Hour + 13*time.Hour + time.Duration(rng.IntN(11*3600))*time.Second)
		if !t.Before(now) {
			t = t.Add(-24 * time.Hour)
		}
		cl := &call{started: t, line: line, callerID: callers[rng.IntN(len(callers))]}
		cl.disposition = weighted(rng, disps, func(d disp) int { return d.weight }).name
		switch cl.disposition {
		case "ANSWERED":
			cl.duration = 20 + rng.IntN(880)
		case "TRANSFERRED":
			cl.duration = 60 + rng.IntN(540)
		case "VOICEMAIL":
			cl.duration = 15 + rng.IntN(75)
		case "ABANDONED":
			cl.duration = 5 + rng.IntN(35)
		}
		answered := cl.disposition == "ANSWERED" || cl.disposition == "TRANSFERRED"
		switch {
		case answered && cl.duration > 180 && rng.IntN(2) == 0:
			cl.tags = append(cl.tags, tags["Qualified Lead"])
			if rng.IntN(5) < 2 {
				cl.tags = append(cl.tags, tags["Appointment Set"])
			}
			if rng.IntN(7) == 0 {
				cl.tags = append(cl.tags, tags["Sale"])
			}
		case answered && cl.duration < 60 && rng.IntN(4) == 0:
			cl.tags = append(cl.tags, tags["Spam"])
		case !answered && rng.IntN(5) < 2:
			cl.tags = append(cl.tags, tags["Missed Opportunity"])
		}
		if answered && rng.IntN(10) == 0 {
			cl.tags = append(cl.tags, tags["Existing Customer"])
		}
		if answered && rng.IntN(100) < 15 {
			when := t.Add(time.Duration(cl.duration)*time.Second + time.Duration(5+rng.IntN(120))*time.Minute)
			if when.Before(now) {
				cl.comments = append(cl.comments, callComment{text: notes[rng.IntN(len(notes))], user: agents[rng.IntN(len(agents))], created: when})
				cl.tags = append(cl.tags, tags["Follow Up"])
			}
		}
		cl.recorded = (answered || cl.disposition == "VOICEMAIL") && rng.IntN(10) != 0
		if cl.recorded && rng.IntN(10) < 6 {
			cl.transcript = transcript(st, cl, rng)
		}
		calls = append(calls, cl)
	}
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].started.Before(calls[j].started) })
	commentID := int64(70001)
	for i, cl := range calls {
		cl.id = int64(900001 + i)
		for j := range cl.comments {
			cl.comments[j].id = commentID
			commentID++
		}
	}
	st.calls = calls
	seedSMS(st, now, rng, callers)
}

func transcript(st *state, cl *call, rng *rand.Rand) string {
	unit := st.units[cl.line.ouID].Name
	if cl.disposition == "VOICEMAIL" {
		return fmt.Sprintf("Hi, this is a message for %s. I found you through %s and I'd like someone to call me back about an appointment. My number is %s. Thanks.", unit, cl.line.source, cl.callerID)
	}
	lines := []string{
		"Agent: Thank you for calling %s, how can I help? Caller: Hi, I saw your listing on %s and wanted a quote. Agent: Of course, let me take a few details.",
		"Agent: %s, good afternoon. Caller: I'd like to book an appointment for next week; I found you on %s. Agent: Sure, Tuesday at ten works. Caller: Perfect.",
		"Agent: Thanks for calling %s. Caller: I have a question about my last invoice. I originally found you on %s. Agent: Let me pull up your account.",
		"Agent: %s, this is the front desk. Caller: Are you open on Saturdays? I heard about you on %s. Agent: Yes, from nine to one.",
	}
	return fmt.Sprintf(lines[rng.IntN(len(lines))], unit, cl.line.source)
}

func hms(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// seedSMS adds 36 SMS threads over the last 20 days.
func seedSMS(st *state, now time.Time, rng *rand.Rand, phones []string) {
	agents := []int64{1, 2, 12345, 12346, 12348, 12350}
	messages := []string{
		"Do you have any openings tomorrow afternoon?",
		"Thanks! See you Tuesday at 10.",
		"What are your hours this weekend?",
		"Can you send me the quote again? I can't find the email.",
		"Is the spring discount still available?",
		"Please call me back when you get a chance.",
		"STOP",
		"Got it, thank you for the reminder.",
		"Where do I park when I arrive?",
		"Can I reschedule my appointment to Friday?",
		"We have a 2pm slot open. Want me to book it?",
		"Your appointment is confirmed for Monday at 9am.",
	}
	for i := range 36 {
		t := &smsThread{id: int64(4001 + i), phone: phones[rng.IntN(len(phones))], line: demoLines[rng.IntN(len(demoLines))]}
		t.started = now.Add(-time.Duration(rng.IntN(20*24*60)+30) * time.Minute)
		t.updated = t.started.Add(time.Duration(rng.IntN(48*60)) * time.Minute)
		if !t.updated.Before(now) {
			t.updated = now.Add(-time.Duration(1+rng.IntN(30)) * time.Minute)
		}
		if t.updated.Before(t.started) {
			t.updated = t.started
		}
		t.smsType = "inbound"
		if rng.IntN(4) == 0 {
			t.smsType = "outbound"
		}
		t.message = messages[rng.IntN(len(messages))]
		t.pin = rng.IntN(10) == 0
		t.status = "open"
		if rng.IntN(10) < 3 {
			t.status = "closed"
			t.closedAt = t.updated.Add(time.Duration(1+rng.IntN(60)) * time.Minute)
			if t.closedAt.After(now) {
				t.closedAt = now
			}
		}
		if t.status == "closed" || rng.IntN(10) < 6 {
			t.userID = agents[rng.IntN(len(agents))]
			if u := st.users[t.userID]; u != nil {
				t.agent = u.FirstName + " " + u.LastName
			}
		}
		if t.userID != 0 || rng.IntN(2) == 0 {
			first := time.Duration(30+rng.IntN(3*3600)) * time.Second
			if span := t.updated.Sub(t.started); first > span {
				first = span/2 + 30*time.Second
			}
			t.firstResp, t.avgResp = hms(first), hms(first*time.Duration(2+rng.IntN(6))/4)
		}
		if t.status == "open" {
			t.unread = rng.IntN(4)
		}
		st.smsThreads = append(st.smsThreads, t)
	}
}
