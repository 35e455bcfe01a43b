package tools_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

const limitsPolicy = "limits:\n  numbers_per_day: 1\n  broadcast_recipients_per_day: 3\n"

// A call over a daily limit is refused before anyone is asked, saying what
// is left today; what ran counts.
func TestDailyLimitOnNumbersOrdered(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{Policy: limitsPolicy})
	args := `{"number":"3035550142","org_unit_id":1042}`
	tok := nrAsk(t, env, "order_phone_number", args, "Order +1 303-555-0142")
	// Two approved before either ran: the second is refused when it runs.
	other := `{"number":"3035550144","org_unit_id":1042}`
	tok2 := nrAsk(t, env, "order_phone_number", other)
	if out := nrConfirm(t, env, "order_phone_number", args, tok); out["status"] != "ordered" {
		t.Fatalf("order: %v", out)
	}
	env.App.Sandbox.ResetCalls()
	if msg := env.Fail(t, "order_phone_number", nrWith(other, "confirmation_token", tok2)); !strings.Contains(msg, "0 are left today") {
		t.Errorf("second approved order: %s", msg)
	}
	nrNoCalls(t, env)
	nrBlocked(t, env, "order_phone_number", `{"number":"3035550143","org_unit_id":1042}`,
		"numbers_per_day (1 per UTC day): this call needs 1 and 0 are left today")
}

// An order the upstream refused does not count.
func TestDailyLimitGivenBackWhenUpstreamRefuses(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{Policy: limitsPolicy})
	args := `{"number":"3035550142","org_unit_id":1042}`
	tok := nrAsk(t, env, "order_phone_number", args)
	env.App.Sandbox.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: "/v3/phone-numbers/order", Times: 1, Status: http.StatusUnprocessableEntity})
	env.Fail(t, "order_phone_number", nrWith(args, "confirmation_token", tok))
	tok = nrAsk(t, env, "order_phone_number", args)
	if out := nrConfirm(t, env, "order_phone_number", args, tok); out["status"] != "ordered" {
		t.Fatalf("order after a refused one: %v", out)
	}
}

func TestDailyLimitOnBroadcastRecipients(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{Policy: limitsPolicy})
	four := `{"broadcast_name":"Four","message":"Hi","from_number":"+13035550100","recipients":["+13035550101","+13035550102","+13035550103","+13035550104"]}`
	nrBlocked(t, env, "create_broadcast", four, "broadcast_recipients_per_day (3 per UTC day): this call needs 4 and 3 are left today")
	two := `{"broadcast_name":"Two","message":"Hi","from_number":"+13035550100","recipients":["+13035550101","+13035550102"]}`
	tok := nrAsk(t, env, "create_broadcast", two)
	if out := nrConfirm(t, env, "create_broadcast", two, tok); out["status"] != "created" {
		t.Fatalf("broadcast: %v", out)
	}
	msg := testenv.Text(env.Call(t, "create_broadcast", two))
	if !strings.Contains(msg, "this call needs 2 and 1 is left today") {
		t.Errorf("second broadcast: %s", msg)
	}
}
