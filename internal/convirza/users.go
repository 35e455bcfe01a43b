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

// Create makes a user (POST /users) and returns their id.
func (s *UsersService) Create(ctx context.Context, u schemas.UserCreate) (int64, Meta, error) {
	return s.r.create(ctx, u)
}

// Replace updates every editable field (PUT /users/:id).
func (s *UsersService) Replace(ctx context.Context, id int64, u schemas.UserReplace) (Meta, error) {
	return s.r.replace(ctx, id, u)
}

// Update changes some fields (PATCH /users/:id).
func (s *UsersService) Update(ctx context.Context, id int64, p schemas.UserPatch) (Meta, error) {
	return s.r.update(ctx, id, p)
}

// Delete soft-deletes a user (DELETE /users/:id).
func (s *UsersService) Delete(ctx context.Context, id int64) (Meta, error) {
	return s.r.delete(ctx, id)
}
