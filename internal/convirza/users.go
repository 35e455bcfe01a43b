package convirza

import (
	"context"

	"github.com/convirza/convirza-mcp/schemas"
)

// UsersService calls the /users endpoints. Admin only.
type UsersService struct{ r resource[schemas.User] }

// List returns users matching the filter (GET /users/list).
func (s *UsersService) List(ctx context.Context, f schemas.ListUsersArgs) (*List[schemas.User], error) {
	out, _, err := s.r.list(ctx, Query(f))
	return out, err
}

// Get returns one user (GET /users/:id).
func (s *UsersService) Get(ctx context.Context, id int64) (*schemas.User, error) {
	out, _, err := s.r.get(ctx, id)
	return out, err
}
