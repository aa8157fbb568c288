package fakestack

import (
	"fmt"
	"net/http"
	"testing"
)

// The configuration metadata endpoints as Keboola documents and tests them:
// apiary.apib "Components Configurations Metadata" (GET lists, DELETE
// .../metadata/{metadataId} answers 204) and storage-api-php-client
// tests/Common/ConfigurationMetadataTest.php, testDeleteMetadata (an id
// deleted already, or held by another configuration or branch, is 404; a
// development branch answers 501 "Delete metadata is not implemented for
// development branch"; its copy of the metadata stays when production's is
// deleted).
func TestConfigMetadata_DeleteByIDInItsBranchOnly(t *testing.T) {
	s := newTestServer(t, Options{})
	const comp = "keboola.snowflake-transformation"
	cfgPath := func(branch, cfg string) string {
		return fmt.Sprintf("/v2/storage/branch/%s/components/%s/configs/%s/metadata", branch, comp, cfg)
	}
	prod := cfgPath("default", demoTransformConfig)
	idOf := func(list []any, key string) string {
		t.Helper()
		for _, e := range list {
			if m := e.(map[string]any); m["key"] == key {
				return m["id"].(string)
			}
		}
		t.Fatalf("no %s in %v", key, list)
		return ""
	}
	folderID := idOf(api(t, s, "GET", prod, nil).array(t), "KBC.configuration.folderName")
	branch := fmt.Sprint(s.AddBranch("feature"))
	dev := cfgPath(branch, demoTransformConfig)
	devFolderID := idOf(api(t, s, "GET", dev, nil).array(t), "KBC.configuration.folderName")
	if devFolderID == folderID {
		t.Fatalf("the branch's copy shares production's metadata id %s", folderID)
	}

	// Deleting in a development branch is not implemented, whichever id.
	for _, id := range []string{devFolderID, folderID} {
		wantStorageError(t, api(t, s, "DELETE", dev+"/"+id, nil), http.StatusNotImplemented, "notImplemented")
	}
	// Production does not hold the branch's entry.
	wantStorageError(t, api(t, s, "DELETE", prod+"/"+devFolderID, nil), http.StatusNotFound, "storage.metadata.notFound")
	// Nor does another configuration hold this one's.
	created := api(t, s, "POST", "/v2/storage/branch/default/components/"+comp+"/configs", map[string]any{"name": "other"}).object(t)
	other := cfgPath("default", created["id"].(string))
	wantStorageError(t, api(t, s, "DELETE", other+"/"+folderID, nil), http.StatusNotFound, "storage.metadata.notFound")

	r := api(t, s, "DELETE", prod+"/"+folderID, nil)
	wantStatus(t, r, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("204 with a body: %s", r.body)
	}
	for _, e := range api(t, s, "GET", prod, nil).array(t) {
		if e.(map[string]any)["id"] == folderID {
			t.Errorf("entry %s still listed after its deletion", folderID)
		}
	}
	wantStorageError(t, api(t, s, "DELETE", prod+"/"+folderID, nil), http.StatusNotFound, "storage.metadata.notFound")
	if idOf(api(t, s, "GET", dev, nil).array(t), "KBC.configuration.folderName") != devFolderID {
		t.Error("deleting in production changed the branch's copy")
	}

	wantStorageError(t, api(t, s, "DELETE", cfgPath("default", "999999")+"/1", nil), http.StatusNotFound, "storage.components.configurations.notFound")
	wantStorageError(t, api(t, s, "DELETE", "/v2/storage/branch/default/components/keboola.nope/configs/1/metadata/1", nil),
		http.StatusNotFound, "storage.components.notFound")
}

// A token that may not configure the component may not delete its metadata,
// as it may not write it (the same check as POST .../metadata).
func TestConfigMetadata_DeleteNeedsAccessToTheComponent(t *testing.T) {
	s := newTestServer(t, Options{})
	prod := fmt.Sprintf("/v2/storage/branch/default/components/keboola.snowflake-transformation/configs/%s/metadata", demoTransformConfig)
	list := api(t, s, "GET", prod, nil).array(t)
	id := path(t, list, 0, "id").(string)
	tok := s.AddToken(TokenOptions{Description: "http only", ComponentAccess: []string{"keboola.ex-http"}})
	wantStorageError(t, call(t, "DELETE", s.URL()+prod+"/"+id, tokenHeader(tok), nil), http.StatusForbidden, "accessDenied")
	if n := len(api(t, s, "GET", prod, nil).array(t)); n != len(list) {
		t.Errorf("%d entries after a refused delete, want %d", n, len(list))
	}
}
