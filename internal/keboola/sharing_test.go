package keboola

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestListSharedBuckets_DecodesProjectAndTables(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		reply(w, 200, `[{"id":"out.c-bench","displayName":"Bench","stage":"out","sharing":"organization-project",
			"project":{"id":5678,"name":"Marketing Hub"},"tables":[{"id":"out.c-bench.prices","name":"prices"}],
			"metadata":[{"key":"KBC.description","value":"Industry prices","provider":"user"}]}]`)
	})
	got, err := newTestClient(t, s, "").ListSharedBuckets(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	calls := s.calls()
	if len(calls) != 1 || calls[0].Method != "GET" || calls[0].Path != "/v2/storage/shared-buckets" || calls[0].Query != "include=metadata" {
		t.Fatalf("requests = %+v", calls)
	}
	if len(got) != 1 || got[0].Project.ID != "5678" || got[0].DescriptionText() != "Industry prices" || len(got[0].Tables) != 1 {
		t.Errorf("shared buckets = %+v", got)
	}
}

func TestLinkSharedBucket_PostsAsyncLinkAndWaitsForTheJob(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch {
		case r.Method == "POST" && r.URL.Path == "/v2/storage/buckets":
			reply(w, 202, `{"id":91,"status":"waiting"}`)
		case r.Method == "GET" && r.URL.Path == "/v2/storage/jobs/91":
			reply(w, 200, `{"id":91,"status":"success","results":{"id":"in.c-bench","stage":"in","sourceBucket":{"id":"out.c-bench","project":{"id":"5678","name":"Marketing Hub"}}}}`)
		default:
			reply(w, 404, `{"error":"no route"}`)
		}
	})
	b, err := newTestClient(t, s, "").LinkSharedBucket(testCtx(t), LinkRequest{SourceProjectID: "5678", SourceBucketID: "out.c-bench", Stage: "in", Name: "bench", DisplayName: "Benchmarks"})
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != "in.c-bench" || b.SourceBucket == nil || b.SourceBucket.Project.Name != "Marketing Hub" {
		t.Errorf("bucket = %+v", b)
	}
	post := s.calls()[0]
	if post.Query != "async=true" {
		t.Errorf("query = %q", post.Query)
	}
	var sent map[string]string
	if err := json.Unmarshal([]byte(post.Body), &sent); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"stage": "in", "name": "bench", "sourceProjectId": "5678", "sourceBucketId": "out.c-bench", "displayName": "Benchmarks"}
	for k, v := range want {
		if sent[k] != v {
			t.Errorf("body %s = %q, want %q (body %s)", k, sent[k], v, post.Body)
		}
	}
}

func TestLinkSharedBucket_RefusesBadInputWithoutARequest(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) { reply(w, 500, `{}`) })
	c := newTestClient(t, s, "")
	for _, r := range []LinkRequest{
		{SourceProjectID: "abc", SourceBucketID: "out.c-x", Stage: "in", Name: "x"},
		{SourceProjectID: "1", SourceBucketID: "out.c-x", Stage: "sys", Name: "x"},
		{SourceProjectID: "1", SourceBucketID: "out.c-x", Stage: "in", Name: "bad name"},
		{SourceProjectID: "1", SourceBucketID: "", Stage: "in", Name: "x"},
	} {
		if _, err := c.LinkSharedBucket(testCtx(t), r); err == nil {
			t.Errorf("%+v: no error", r)
		}
	}
	if n := len(s.calls()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestRunSyncAction_PostsToSyncActionsWithBranch(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		reply(w, 200, `{"status":"success"}`)
	})
	s.index = `{"services":[{"id":"sync-actions","url":"` + s.URL + `/sync"}]}`
	out, err := newTestClient(t, s, "42").RunSyncAction(testCtx(t), "keboola.ex-db-mysql", "testConnection", json.RawMessage(`{"parameters":{"db":{"host":"h"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"status":"success"}` {
		t.Errorf("answer = %s", out)
	}
	c := s.calls()[0]
	if c.Method != "POST" || c.Path != "/sync/actions" {
		t.Fatalf("request = %s %s", c.Method, c.Path)
	}
	if c.Header.Get("X-StorageApi-Token") != testToken {
		t.Error("Storage token header missing")
	}
	for _, want := range []string{`"componentId":"keboola.ex-db-mysql"`, `"action":"testConnection"`, `"branchId":"42"`, `"configData":{"parameters":{"db":{"host":"h"}}}`} {
		if !strings.Contains(c.Body, want) {
			t.Errorf("body lacks %s: %s", want, c.Body)
		}
	}
}

func TestRunSyncAction_RefusesBadInput(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) { reply(w, 200, `{}`) })
	c := newTestClient(t, s, "")
	cases := []struct{ comp, action, data string }{
		{"", "testConnection", `{}`},
		{"keboola.ex-db-mysql", "", `{}`},
		{"keboola.ex-db-mysql", "../x", `{}`},
		{"keboola.ex-db-mysql", "getTables", `[1]`},
	}
	for _, tc := range cases {
		if _, err := c.RunSyncAction(testCtx(t), tc.comp, tc.action, json.RawMessage(tc.data)); err == nil {
			t.Errorf("%+v: no error", tc)
		}
	}
}

// TestValidLinkName pins the rule the regexp ^[a-zA-Z0-9_-]{1,96}$ stated:
// length 1 to 96, ASCII letters, digits, dash, underscore only.
func TestValidLinkName(t *testing.T) {
	for name, want := range map[string]bool{
		"x": true, "Sales_2024-eu": true, strings.Repeat("a", 96): true,
		"": false, strings.Repeat("a", 97): false, "bad name": false, "dot.name": false,
		"čeština": false, "tab\t": false, "slash/": false,
	} {
		if got := validLinkName(name); got != want {
			t.Errorf("validLinkName(%q) = %v, want %v", name, got, want)
		}
	}
}
