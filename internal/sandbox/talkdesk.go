package sandbox

// The Talkdesk side of the simulator lives in package talkdesksim; this
// file mounts it and keeps the names tests and the server use.

import "github.com/convirza/convirza-mcp/internal/sandbox/talkdesksim"

// Demo Talkdesk account and client credentials, and the seeded lists.
const (
	TalkdeskAccount      = talkdesksim.Account
	TalkdeskClientID     = talkdesksim.ClientID
	TalkdeskClientSecret = talkdesksim.ClientSecret
	SpringCampaignListID = talkdesksim.SpringCampaignListID
	WinBackListID        = talkdesksim.WinBackListID
)

// TalkdeskList describes a record list for tests.
type TalkdeskList = talkdesksim.List

// ExpireTalkdeskTokens makes every issued Talkdesk token invalid, as if
// their ten minutes had passed.
func (s *Server) ExpireTalkdeskTokens() { s.td.ExpireTokens() }

// TalkdeskTokensIssued counts the Talkdesk tokens granted so far.
func (s *Server) TalkdeskTokensIssued() int { return s.td.TokensIssued() }

// TalkdeskLists returns every record list, oldest first.
func (s *Server) TalkdeskLists() []TalkdeskList { return s.td.Lists() }

// TalkdeskPhones returns the first phone number of every record of a list,
// in list order (nil for an unknown list).
func (s *Server) TalkdeskPhones(listID string) []string { return s.td.Phones(listID) }

// TalkdeskSnapshot renders every list and record as JSON, so a test can
// check that a refused call changed nothing.
func (s *Server) TalkdeskSnapshot() string { return s.td.Snapshot() }

// AddTalkdeskRecord adds a record to a record list with its phone numbers
// stored exactly as given; false for an unknown list.
func (s *Server) AddTalkdeskRecord(listID, first, last string, phones ...string) bool {
	return s.td.AddRecord(listID, first, last, phones...)
}
