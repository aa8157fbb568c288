package keboola

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// Metadata keys that mark configurations written through the MCP server,
// the ones Keboola's own MCP server sets: the UI uses them to show which
// configurations and versions an AI assistant made.
const (
	MetadataKeyCreatedByMCP = "KBC.MCP.createdBy"
	metadataKeyUpdatedByMCP = "KBC.MCP.updatedBy.version."
)

// MetadataKeyUpdatedByMCP is the key that marks a configuration version as
// written through the MCP server.
func MetadataKeyUpdatedByMCP(version int) string {
	return metadataKeyUpdatedByMCP + strconv.Itoa(version)
}

// SetConfigMetadata writes metadata on a configuration and returns the
// configuration's full metadata list. Writing the same keys again is
// harmless, so it is retried like a read.
func (c *Client) SetConfigMetadata(ctx context.Context, componentID, configID string, items []MetadataInput) (Metadata, error) {
	p, err := c.configPath(componentID, configID)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errors.New("keboola: no metadata to write")
	}
	if err := checkMetadata(items); err != nil {
		return nil, err
	}
	var out Metadata
	err = c.doJSON(ctx, request{method: "POST", path: p + "/metadata", body: map[string]any{"metadata": items}, idempotent: true}, &out)
	return out, err
}

// ConfigMetadata returns a configuration's metadata in the client's branch.
// Each branch holds its own copy, with ids of its own.
func (c *Client) ConfigMetadata(ctx context.Context, componentID, configID string) (Metadata, error) {
	p, err := c.configPath(componentID, configID)
	if err != nil {
		return nil, err
	}
	var out Metadata
	err = c.doJSON(ctx, request{method: "GET", path: p + "/metadata"}, &out)
	return out, err
}

// DeleteConfigMetadata deletes one metadata entry of a configuration, named
// by its id (not its key), in the client's branch. Keboola answers 404 for an
// id the configuration does not hold in this branch. Keboola's own API tests
// (storage-api-php-client, ConfigurationMetadataTest::testDeleteMetadata)
// expect 501 in a development branch: callers report that rather than
// pretend the entry is gone.
func (c *Client) DeleteConfigMetadata(ctx context.Context, componentID, configID, metadataID string) error {
	p, err := c.configPath(componentID, configID)
	if err != nil {
		return err
	}
	if !isMetadataID(metadataID) {
		return fmt.Errorf("keboola: metadata id %q must be the entry's number", metadataID)
	}
	return c.doJSON(ctx, request{method: "DELETE", path: p + "/metadata/" + metadataID}, nil)
}

// isMetadataID reports whether id looks like a Storage metadata id: a
// decimal number, as every metadata list returns them.
func isMetadataID(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
