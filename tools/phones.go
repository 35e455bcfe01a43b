package tools

import (
	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/schemas"
)

// Numbers are answered in E.164 whatever form the upstream stores them in
// (the numbers and routes endpoints use 10 digits): one spelling in every
// answer, the one every argument accepts.

func e164Numbers(items []convirza.PhoneNumber) []convirza.PhoneNumber {
	for i := range items {
		items[i].Number = schemas.PhoneOut(items[i].Number)
	}
	return items
}

func e164Route(r *convirza.Route) {
	r.PhoneNumber = schemas.PhoneOut(r.PhoneNumber)
	r.RingTo = schemas.PhoneOut(r.RingTo)
}

func e164Routes(items []convirza.Route) []convirza.Route {
	for i := range items {
		e164Route(&items[i])
	}
	return items
}

func e164Groups(items []convirza.Group) []convirza.Group {
	for i := range items {
		items[i].PhoneNumber = schemas.PhoneOut(items[i].PhoneNumber)
	}
	return items
}
