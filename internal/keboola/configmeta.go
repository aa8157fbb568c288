package keboola

import (
	"context"
	"errors"
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
