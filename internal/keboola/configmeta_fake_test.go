package keboola_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
)

// Configuration metadata is read and deleted in the client's branch: a
// production entry is deleted by its id in production; a development branch
// reads its own copy and, as Keboola's API tests expect
// (storage-api-php-client ConfigurationMetadataTest::testDeleteMetadata),
// cannot delete from it (501), which the client passes on as an error.
func TestConfigMetadata_ReadAndDeleteInTheClientsBranch(t *testing.T) {
	t.Parallel()
	fs := fakestacktest.NewServer(t, fakestack.Options{JobStepDelay: time.Millisecond})
	branch := strconv.Itoa(fs.AddBranch("feature"))
	clientIn := func(branchID string) *keboola.Client {
		c, err := keboola.New(keboola.Credentials{StackURL: fs.URL(), StorageToken: keboola.Secret(fs.MasterToken()), BranchID: branchID},
			keboola.Options{Retry: keboola.RetryPolicy{MaxAttempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	prod, dev := clientIn(""), clientIn(branch)
	ctx := ctxFor(t)
	const comp, cfg, key = "keboola.ex-db-mysql", "7410001", "test.delete.me"
	for _, c := range []*keboola.Client{prod, dev} {
		try(c.SetConfigMetadata(ctx, comp, cfg, []keboola.MetadataInput{{Key: key, Value: "x"}})).must(t)
	}
	idIn := func(c *keboola.Client) string {
		t.Helper()
		for _, e := range try(c.ConfigMetadata(ctx, comp, cfg)).must(t) {
			if e.Key == key {
				return e.ID.String()
			}
		}
		return ""
	}
	prodID, devID := idIn(prod), idIn(dev)
	if prodID == "" || devID == "" || prodID == devID {
		t.Fatalf("entry ids production %q, branch %q: want one in each, different", prodID, devID)
	}

	var apiErr *keboola.APIError
	if err := prod.DeleteConfigMetadata(ctx, comp, cfg, devID); !errors.Is(err, keboola.ErrNotFound) {
		t.Errorf("deleting the branch's entry in production: %v, want not found", err)
	}
	if err := dev.DeleteConfigMetadata(ctx, comp, cfg, devID); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotImplemented {
		t.Errorf("deleting in a development branch: %v, want Keboola's 501", err)
	}
	if err := prod.DeleteConfigMetadata(ctx, comp, cfg, prodID); err != nil {
		t.Fatal(err)
	}
	if id := idIn(prod); id != "" {
		t.Errorf("production still holds entry %s", id)
	}
	if id := idIn(dev); id != devID {
		t.Errorf("branch entry %q after production's deletion, want %s", id, devID)
	}
}
