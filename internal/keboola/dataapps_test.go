package keboola

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// newServiceStub is a stub whose index advertises the Data Science and
// Metastore services under its own URL.
func newServiceStub(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body string)) *stub {
	t.Helper()
	s := newStub(t, handle)
	s.index = `{"services":[{"id":"data-science","url":"` + s.URL + `/ds"},{"id":"metastore","url":"` + s.URL + `/ms"}]}`
	return s
}

func TestDataScienceAndMetastore_SendDocumentedRequests(t *testing.T) {
	cases := []struct {
		name     string
		branch   string
		call     func(context.Context, *Client) (any, error)
		answer   string
		method   string
		path     string
		query    string
		wantBody string
		check    func(t *testing.T, got any)
	}{
		{name: "list apps", method: "GET", path: "/ds/apps", query: "limit=10&offset=20",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListDataApps(ctx, 10, 20) },
			answer: `[{"id":"a1","projectId":12,"componentId":"keboola.data-apps","branchId":null,"configId":"77","configVersion":"3","type":"streamlit","state":"running","desiredState":"running","url":"https://x","autoSuspendAfterSeconds":900}]`,
			check: func(t *testing.T, got any) {
				a := got.([]DataApp)
				if len(a) != 1 || a[0].ProjectID != "12" || a[0].ConfigID != "77" || a[0].BranchID != "" || a[0].AutoSuspendAfterSeconds != 900 {
					t.Errorf("apps = %+v", a)
				}
			}},
		{name: "create app on a dev branch", branch: "42", method: "POST", path: "/ds/apps",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateDataApp(ctx, NewDataApp{Name: "N", Description: "D", Type: DataAppTypePythonJS, Config: json.RawMessage(`{"parameters":{}}`), ManagedGitRepo: true})
			},
			answer:   `{"id":"a2","configId":"78"}`,
			wantBody: `{"branchId":"42","config":{"parameters":{}},"description":"D","name":"N","type":"python-js","useManagedGitRepo":true}`},
		{name: "create app on the default branch", method: "POST", path: "/ds/apps",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateDataApp(ctx, NewDataApp{Name: "N", Type: DataAppTypeStreamlit, Config: json.RawMessage(`{}`)})
			},
			answer:   `{"id":"a2"}`,
			wantBody: `{"branchId":null,"config":{},"description":"","name":"N","type":"streamlit"}`},
		{name: "deploy with version and mode", method: "PATCH", path: "/ds/apps/a1",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.DeployDataApp(ctx, "a1", DeployOptions{ConfigVersion: "4", Mode: "dev"})
			},
			answer:   `{"id":"a1","state":"starting"}`,
			wantBody: `{"configVersion":"4","desiredState":"running","mode":"dev","restartIfRunning":true,"updateDependencies":false}`},
		{name: "suspend", method: "PATCH", path: "/ds/apps/a1",
			call:     func(ctx context.Context, c *Client) (any, error) { return c.SuspendDataApp(ctx, "a1") },
			answer:   `{"id":"a1","state":"stopping"}`,
			wantBody: `{"desiredState":"stopped"}`},
		{name: "delete", method: "DELETE", path: "/ds/apps/a1",
			call: func(ctx context.Context, c *Client) (any, error) { return nil, c.DeleteDataApp(ctx, "a1") }},
		{name: "logs", method: "GET", path: "/ds/apps/a1/logs/tail", query: "lines=20", answer: "line 1\nline 2\n",
			call: func(ctx context.Context, c *Client) (any, error) { return c.DataAppLogs(ctx, "a1", 20) },
			check: func(t *testing.T, got any) {
				if got.(string) != "line 1\nline 2\n" {
					t.Errorf("logs = %q", got)
				}
			}},
		{name: "runs", method: "GET", path: "/ds/apps/a1/runs", query: "limit=1&offset=0",
			answer: `[{"id":"r1","state":"failed","failureReason":{"reason":"StartupProbeFailed","message":"boom"}}]`,
			call:   func(ctx context.Context, c *Client) (any, error) { return c.DataAppRuns(ctx, "a1", 1) },
			check: func(t *testing.T, got any) {
				r := got.([]DataAppRun)
				if len(r) != 1 || r[0].FailureReason == nil || r[0].FailureReason.Reason != "StartupProbeFailed" {
					t.Errorf("runs = %+v", r)
				}
			}},
		{name: "git repo", method: "GET", path: "/ds/apps/a1/git-repo", answer: `{"httpsUrl":"https://git.x/r.git","sshUrl":null,"isManagedGitRepo":true}`,
			call: func(ctx context.Context, c *Client) (any, error) { return c.DataAppGitRepository(ctx, "a1") },
			check: func(t *testing.T, got any) {
				r := got.(*DataAppGitRepo)
				if r.HTTPSURL != "https://git.x/r.git" || r.IsManaged == nil || !*r.IsManaged {
					t.Errorf("repo = %+v", r)
				}
			}},
		{name: "git credential keeps the secret out of printing", method: "POST", path: "/ds/apps/a1/git-repo/credentials",
			answer:   `{"id":"c1","type":"http_token","permissions":"readWrite","secret":"s3cr3t"}`,
			wantBody: `{"permissions":"readWrite","type":"http_token"}`,
			call:     func(ctx context.Context, c *Client) (any, error) { return c.CreateDataAppGitCredential(ctx, "a1") },
			check: func(t *testing.T, got any) {
				cr := got.(*DataAppGitCredential)
				b, _ := json.Marshal(cr)
				if cr.Secret.Reveal() != "s3cr3t" || cr.ID != "c1" || strings.Contains(string(b), "s3cr3t") {
					t.Errorf("credential = %+v, JSON %s", cr, b)
				}
			}},
		{name: "metastore list", method: "GET", path: "/ms/api/v1/repository/semantic-metric", query: "limit=5&offset=10",
			answer: `{"data":[{"type":"semantic-metric","id":"u1","attributes":{"name":"Revenue"},"meta":{"name":"Revenue","revision":2}}]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListMetastoreObjects(ctx, "semantic-metric", 5, 10)
			},
			check: func(t *testing.T, got any) {
				o := got.([]MetastoreObject)
				if len(o) != 1 || o[0].ID != "u1" || o[0].Meta.Name != "Revenue" || string(o[0].Attributes) != `{"name":"Revenue"}` {
					t.Errorf("objects = %+v", o)
				}
			}},
		{name: "metastore object", method: "GET", path: "/ms/api/v1/repository/semantic-model/u9",
			answer: `{"data":{"type":"semantic-model","id":"u9","attributes":{}}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.GetMetastoreObject(ctx, "semantic-model", "u9")
			}},
		{name: "metastore schema unwraps", method: "GET", path: "/ms/api/v1/schema/semantic-model",
			answer: `{"schema":{"title":"semantic-model"}}`,
			call:   func(ctx context.Context, c *Client) (any, error) { return c.MetastoreSchema(ctx, "semantic-model") },
			check: func(t *testing.T, got any) {
				if string(got.(json.RawMessage)) != `{"title":"semantic-model"}` {
					t.Errorf("schema = %s", got)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServiceStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
				if tc.answer == "" {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				reply(w, http.StatusOK, tc.answer)
			})
			got, err := tc.call(testCtx(t), newTestClient(t, s, tc.branch))
			if err != nil {
				t.Fatal(err)
			}
			calls := s.calls()
			if len(calls) != 1 {
				t.Fatalf("%d calls, want 1", len(calls))
			}
			r := calls[0]
			if r.Method != tc.method || r.Path != tc.path || r.Query != tc.query {
				t.Errorf("sent %s %s?%s, want %s %s?%s", r.Method, r.Path, r.Query, tc.method, tc.path, tc.query)
			}
			if r.Header.Get("X-StorageApi-Token") != testToken {
				t.Errorf("token header missing")
			}
			if tc.wantBody != "" {
				var got, want any
				_ = json.Unmarshal([]byte(r.Body), &got)
				_ = json.Unmarshal([]byte(tc.wantBody), &want)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("body %s, want %s", r.Body, tc.wantBody)
				}
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

func TestDataScienceAndMetastore_RefuseBadInput(t *testing.T) {
	s := newServiceStub(t, func(w http.ResponseWriter, _ *http.Request, _ string) { reply(w, http.StatusOK, `{}`) })
	c := newTestClient(t, s, "")
	ctx := testCtx(t)
	for name, err := range map[string]error{
		"app id with a slash": func() error { _, err := c.GetDataApp(ctx, "a/b"); return err }(),
		"unknown app type": func() error {
			_, err := c.CreateDataApp(ctx, NewDataApp{Name: "x", Type: "shiny", Config: json.RawMessage(`{}`)})
			return err
		}(),
		"config not an object": func() error {
			_, err := c.CreateDataApp(ctx, NewDataApp{Name: "x", Type: "streamlit", Config: json.RawMessage(`[]`)})
			return err
		}(),
		"negative offset":   func() error { _, err := c.ListMetastoreObjects(ctx, "semantic-model", 1, -1); return err }(),
		"list without data": func() error { _, err := c.ListMetastoreObjects(ctx, "semantic-model", 1, 0); return err }(),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
