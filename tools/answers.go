package tools

import (
	"context"
	"fmt"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/schemas"
)

// Answers of writes, shared by the toolsets.

// created is the answer of a create: the new id, the name given, and the
// upstream request id.
func created(idKey string, id int64, nameKey, name string, meta convirza.Meta, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return map[string]any{"status": "created", idKey: id, nameKey: name, "request_id": meta.RequestID}, nil
}

// written is the answer of a write that returns no body.
func written(status, idKey string, id int64, meta convirza.Meta, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	out := map[string]any{"status": status, idKey: id, "request_id": meta.RequestID}
	if meta.GoneAfterRetry {
		out["note"] = meta.Message
	}
	return out, nil
}

// deleted is the answer of a DELETE. When the upstream answered a retry
// "not found" after the first attempt's answer was lost, the first attempt
// most likely did the delete: status reads the resource again ("" when it
// is not found) to verify, and the answer says what was found.
func deleted(ctx context.Context, idKey string, id int64, meta convirza.Meta, err error, status func(ctx context.Context) (string, error)) (any, error) {
	if err != nil {
		return nil, err
	}
	out := map[string]any{"status": "deleted", idKey: id, "request_id": meta.RequestID}
	if !meta.GoneAfterRetry {
		return out, nil
	}
	out["note"] = meta.Message
	if status == nil {
		return out, nil
	}
	st, err := status(ctx)
	switch {
	case upstream.IsNotFound(err), err == nil && (st == "" || st == schemas.StatusDeleted):
		out["verified"] = "read again after the retry: it is gone"
		return out, nil
	case err != nil:
		out["verified"] = fmt.Sprintf("could not read it again to verify (%v)", err)
		return out, nil
	}
	return nil, fmt.Errorf("the delete's retry answered \"not found\", but %s %d still exists with status %q: check it before trying again", idKey, id, st)
}
