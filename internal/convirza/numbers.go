package convirza

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/convirza/convirza-mcp/schemas"
)

// NumbersService calls the /phone-numbers endpoints. Admin and Standard.
type NumbersService struct{ c *Client }

func (s *NumbersService) list(ctx context.Context, path string, q url.Values) (*List[PhoneNumber], error) {
	r := resource[PhoneNumber]{c: s.c, listPath: path, listKey: "numbers"}
	out, _, err := r.list(ctx, q)
	return out, err
}

// Search finds numbers that can be provisioned: the account's unused ones
// (with a number_id) and the carrier's (number_id null: order them first).
func (s *NumbersService) Search(ctx context.Context, f schemas.SearchNumbersArgs) (*List[PhoneNumber], error) {
	return s.list(ctx, "/phone-numbers/search", Query(f))
}

// Assigned lists the numbers the account holds (GET /phone-numbers/assigned).
func (s *NumbersService) Assigned(ctx context.Context, f schemas.ListNumbersArgs) (*List[PhoneNumber], error) {
	return s.list(ctx, "/phone-numbers/assigned", Query(f))
}

// Provisioned lists the numbers in use by routes (GET /phone-numbers/provisioned).
func (s *NumbersService) Provisioned(ctx context.Context, f schemas.ListNumbersArgs) (*List[PhoneNumber], error) {
	return s.list(ctx, "/phone-numbers/provisioned", Query(f))
}

// Order buys a carrier number for an org unit (POST /phone-numbers/order)
// and returns its new number_id. It costs money.
func (s *NumbersService) Order(ctx context.Context, o schemas.NumberOrder) (int64, Meta, error) {
	const path = "/phone-numbers/order"
	var data map[string]json.RawMessage
	meta, err := s.c.do(ctx, http.MethodPost, path, nil, o, &data)
	if err != nil {
		return 0, meta, err
	}
	// The answer may echo other ids (org_unit_id): look for the number's first.
	for _, k := range []string{"numberId", "number_id", "id"} {
		if v, ok := data[k]; ok {
			if id, err := newID(map[string]json.RawMessage{k: v}); err == nil {
				return id, meta, nil
			}
		}
	}
	return 0, meta, malformed(http.MethodPost, path, 200, meta.RequestID, errors.New("no number_id in the answer"))
}

// Release gives a number up (DELETE /phone-numbers/number?number=...). The
// number travels in the query: the API documents no body shape for this
// DELETE, and a query survives every proxy.
func (s *NumbersService) Release(ctx context.Context, number string) (Meta, error) {
	return s.c.do(ctx, http.MethodDelete, "/phone-numbers/number", url.Values{"number": {number}}, nil, nil)
}

// PhoneNumber is one number as the phone-number endpoints return it. A
// search result with no number_id is offered by the carrier and must be
// ordered before a route can use it.
type PhoneNumber struct {
	NumberID            *int64  `json:"number_id"`
	Number              string  `json:"number"`
	Source              string  `json:"source,omitempty"`
	NPA                 string  `json:"npa,omitempty"`
	NXX                 string  `json:"nxx,omitempty"`
	OCN                 string  `json:"ocn,omitempty"`
	RateCenter          string  `json:"rc,omitempty"`
	City                string  `json:"city,omitempty"`
	State               string  `json:"state,omitempty"`
	OrgUnitID           int64   `json:"org_unit_id,omitempty"`
	OrgUnitName         string  `json:"org_unit_name,omitempty"`
	Status              string  `json:"status,omitempty"`
	ProvisionedRouteIDs []int64 `json:"provisioned_route_ids,omitempty"`
	AssignedOn          string  `json:"assigned_on,omitempty"`
}
