package keboola

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// schedulerStub serves the stack index with a scheduler service under /scheduler.
func schedulerStub(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body string)) *stub {
	t.Helper()
	s := newStub(t, handle)
	s.index = `{"services":[{"id":"scheduler","url":"` + s.URL + `/scheduler"}]}`
	return s
}

func TestScheduler_SendsDocumentedRequests(t *testing.T) {
	cases := []struct {
		name     string
		call     func(context.Context, *Client) (any, error)
		answer   string
		method   string
		path     string
		query    url.Values
		wantBody string
		check    func(t *testing.T, got any)
	}{
		{
			name: "list schedules of a flow", method: "GET", path: "/scheduler/schedules",
			query: url.Values{"componentId": {"keboola.flow"}, "configurationId": {"77"}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListSchedules(ctx, "keboola.flow", "77")
			},
			answer: `[{"id":"35049","tokenId":"1","configurationId":"01kc","configurationVersionId":"3",` +
				`"schedule":{"cronTab":"55 2 * * 6,0","timezone":"UTC","state":"enabled"},` +
				`"target":{"componentId":"keboola.flow","configurationId":77,"mode":"run","tag":""},` +
				`"executions":[{"jobId":123,"executionTime":"2025-12-17T15:13:48+0100"}]}]`,
			check: func(t *testing.T, got any) {
				s := got.([]Schedule)
				if len(s) != 1 || s[0].ConfigurationID != "01kc" || s[0].Schedule.CronTab != "55 2 * * 6,0" ||
					s[0].Target.ConfigurationID != "77" || s[0].Executions[0].JobID != "123" || s[0].Executions[0].ExecutionTime.IsZero() {
					t.Errorf("schedules = %+v", s)
				}
			},
		},
		{
			name: "list every schedule", method: "GET", path: "/scheduler/schedules",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListSchedules(ctx, "", "") },
			answer: `[]`,
		},
		{
			name: "activate", method: "POST", path: "/scheduler/schedules", wantBody: `{"configurationId":"01kc"}`,
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ActivateSchedule(ctx, "01kc") },
			answer: `{"id":"35049","configurationId":"01kc","schedule":{"cronTab":"0 * * * *","timezone":"UTC","state":"disabled"}}`,
			check: func(t *testing.T, got any) {
				if s := got.(*Schedule); s.ID != "35049" || s.Schedule.State != "disabled" {
					t.Errorf("schedule = %+v", s)
				}
			},
		},
		{
			name: "deactivate", method: "DELETE", path: "/scheduler/configurations/01kc",
			call: func(ctx context.Context, c *Client) (any, error) { return nil, c.DeactivateSchedule(ctx, "01kc") },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := schedulerStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
				if tc.answer == "" {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				reply(w, 200, tc.answer)
			})
			got, err := tc.call(testCtx(t), newTestClient(t, s, ""))
			if err != nil {
				t.Fatal(err)
			}
			calls := s.calls()
			if len(calls) != 1 {
				t.Fatalf("%d requests, want 1", len(calls))
			}
			r := calls[0]
			if r.Method != tc.method || r.Path != tc.path {
				t.Errorf("request = %s %s, want %s %s", r.Method, r.Path, tc.method, tc.path)
			}
			gotQuery, _ := url.ParseQuery(r.Query)
			want := tc.query
			if want == nil {
				want = url.Values{}
			}
			if !reflect.DeepEqual(gotQuery, want) {
				t.Errorf("query = %v, want %v", gotQuery, want)
			}
			if r.Header.Get("X-StorageApi-Token") != testToken {
				t.Error("the Scheduler call lacks the token header")
			}
			assertJSONEqual(t, r.Body, tc.wantBody)
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

func TestScheduler_RejectsBadIdsBeforeSending(t *testing.T) {
	cases := map[string]func(context.Context, *Client) error{
		"filter by component only": func(ctx context.Context, c *Client) error {
			_, err := c.ListSchedules(ctx, "keboola.flow", "")
			return err
		},
		"activate without id": func(ctx context.Context, c *Client) error { _, err := c.ActivateSchedule(ctx, " "); return err },
		"deactivate a path":   func(ctx context.Context, c *Client) error { return c.DeactivateSchedule(ctx, "../x") },
	}
	for name, call := range cases {
		t.Run(name, func(t *testing.T) {
			s := schedulerStub(t, func(w http.ResponseWriter, _ *http.Request, _ string) { reply(w, 200, `{}`) })
			if err := call(testCtx(t), newTestClient(t, s, "")); err == nil || !strings.Contains(err.Error(), "id") {
				t.Fatalf("err = %v, want a validation error naming the id", err)
			}
			if n := len(s.calls()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

func TestLinks_FlowPagesDependOnFlowComponent(t *testing.T) {
	l, err := NewLinks("https://connection.keboola.com", "123")
	if err != nil {
		t.Fatal(err)
	}
	const p = "https://connection.keboola.com/admin/projects/123"
	cases := map[string]string{
		l.FlowsOf(LegacyFlowComponentID):                  p + "/flows",
		l.FlowsOf(ConditionalFlowComponentID):             p + "/flows-v2",
		l.FlowOf(LegacyFlowComponentID, "9"):              p + "/flows/9",
		l.FlowOf(ConditionalFlowComponentID, "9"):         p + "/flows-v2/9",
		l.FlowSchedules(ConditionalFlowComponentID, "01"): p + "/flows-v2/01/schedules",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}
