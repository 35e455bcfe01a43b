package convirza

import (
	"context"
	"fmt"
	"net/http"

	"github.com/convirza/convirza-mcp/schemas"
)

// UsersService calls the /users endpoints. Admin only.
type UsersService service

// List returns users matching the filter (GET /users/list).
func (s *UsersService) List(ctx context.Context, f schemas.ListUsersArgs) (*schemas.UserList, error) {
	var out schemas.UserList
	if _, err := s.c.do(ctx, http.MethodGet, "/users/list", Query(f), nil, &out); err != nil {
		return nil, err
	}
	if out.Users == nil {
		out.Users = []schemas.User{}
	}
	return &out, nil
}

// Get returns one user (GET /users/:id).
func (s *UsersService) Get(ctx context.Context, id int64) (*schemas.User, error) {
	var out schemas.User
	if _, err := s.c.do(ctx, http.MethodGet, fmt.Sprintf("/users/%d", id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
