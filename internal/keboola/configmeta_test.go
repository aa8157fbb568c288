package keboola

import (
	"net/http"
	"testing"
)

func TestSetConfigMetadata_PostsToTheBranchConfigurationPath(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		reply(w, 201, `[{"id":"1","key":"KBC.MCP.createdBy","value":"true","provider":"user","timestamp":"2024-01-02T03:04:05+0100"}]`)
	})
	md, err := newTestClient(t, s, "").SetConfigMetadata(testCtx(t), "keboola.ex-db-mysql", "12", []MetadataInput{{Key: MetadataKeyCreatedByMCP, Value: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := md.Get(MetadataKeyCreatedByMCP); !ok || v != "true" {
		t.Errorf("metadata = %+v", md)
	}
	c := s.calls()[0]
	if c.Method != "POST" || c.Path != "/v2/storage/branch/default/components/keboola.ex-db-mysql/configs/12/metadata" ||
		c.Body != `{"metadata":[{"key":"KBC.MCP.createdBy","value":"true"}]}` {
		t.Errorf("request = %s %s %s", c.Method, c.Path, c.Body)
	}
	if MetadataKeyUpdatedByMCP(7) != "KBC.MCP.updatedBy.version.7" {
		t.Errorf("update key = %s", MetadataKeyUpdatedByMCP(7))
	}
}

func TestSetConfigMetadata_RefusesEmptyInput(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) { reply(w, 500, `{}`) })
	c := newTestClient(t, s, "")
	for _, items := range [][]MetadataInput{nil, {{Key: " ", Value: "x"}}} {
		if _, err := c.SetConfigMetadata(testCtx(t), "keboola.ex-db-mysql", "12", items); err == nil {
			t.Errorf("%v: no error", items)
		}
	}
	if _, err := c.SetConfigMetadata(testCtx(t), "", "12", []MetadataInput{{Key: "k", Value: "v"}}); err == nil {
		t.Error("empty component id: no error")
	}
	if n := len(s.calls()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestDeleteConfigMetadata_RefusesIDsThatAreNotMetadataIDs(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) { w.WriteHeader(http.StatusNoContent) })
	c := newTestClient(t, s, "")
	for _, id := range []string{"", " ", "12a", "../12", "1/2", "KBC.configuration.folderName", "-1", "123456789012345678901"} {
		if err := c.DeleteConfigMetadata(testCtx(t), "keboola.ex-db-mysql", "12", id); err == nil {
			t.Errorf("metadata id %q: no error", id)
		}
	}
	if err := c.DeleteConfigMetadata(testCtx(t), "keboola.ex-db-mysql", "", "12"); err == nil {
		t.Error("empty configuration id: no error")
	}
	if n := len(s.calls()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
