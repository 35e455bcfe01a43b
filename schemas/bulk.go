package schemas

import (
	"errors"
	"fmt"
)

// MaxBulk is how many items one bulk call (ids, numbers) may name.
const MaxBulk = 50

// IDs names one resource by id, or up to MaxBulk by ids: the argument of
// the destructive tools operators run in bulk.
type IDs struct {
	ID  int64   `json:"id,omitempty" jsonschema:"minimum=1"`
	IDs []int64 `json:"ids,omitempty" jsonschema:"minItems=1,maxItems=50,uniqueItems=true,minimum=1,description=Several ids: one confirmation"`
}

// Validate asks for exactly one of id and ids.
func (a *IDs) Validate() error {
	if (a.ID == 0) == (len(a.IDs) == 0) {
		return errors.New("give exactly one of id (one) or ids (1 to 50)")
	}
	seen := make(map[int64]int, len(a.IDs))
	for i, id := range a.IDs {
		if j, dup := seen[id]; dup {
			return fmt.Errorf("ids[%d] is ids[%d] again (%d); list each id once", i, j, id)
		}
		seen[id] = i
	}
	return nil
}

// List is the ids named.
func (a IDs) List() []int64 {
	if a.ID != 0 {
		return []int64{a.ID}
	}
	return a.IDs
}
