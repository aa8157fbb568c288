package tools

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// createdChange is the version-history note of every configuration a tool
// creates, so the history reads the same whichever tool made it.
const createdChange = "Created by the Keboola MCP server"

// markWrittenByMCP sets the metadata that tells the Keboola UI that a
// configuration (version > 0: that version of it) was written through an
// MCP server. The configuration is saved by then, so a failure is only
// reported: failing the call would invite a repeat of a write that worked.
func markWrittenByMCP(ctx context.Context, c *keboola.Client, compID, cfgID string, version int) string {
	key := keboola.MetadataKeyCreatedByMCP
	if version > 0 {
		key = keboola.MetadataKeyUpdatedByMCP(version)
	}
	if _, err := c.SetConfigMetadata(ctx, compID, cfgID, []keboola.MetadataInput{{Key: key, Value: "true"}}); err != nil {
		return fmt.Sprintf("The change is saved, but marking it as made through the MCP server failed: %v\n", err)
	}
	return ""
}

// createdConfig is a configuration the server has just created.
type createdConfig struct {
	*keboola.Config
	id    string
	links keboola.Links
	// note is markWrittenByMCP's warning, empty when the mark was saved.
	note string
}

// createMarkedConfig creates a configuration, marks it as created through
// the MCP server and fetches the project's links for the answer.
func createMarkedConfig(ctx context.Context, c call, compID, name, description string, body json.RawMessage) (*createdConfig, error) {
	cfg, err := c.client.CreateConfig(ctx, compID, keboola.ConfigInput{Name: name, Description: description,
		Configuration: body, ChangeDescription: createdChange})
	if err != nil {
		return nil, err
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return nil, err
	}
	id := cfg.ID.String()
	return &createdConfig{Config: cfg, id: id, links: u, note: markWrittenByMCP(ctx, c.client, compID, id, 0)}, nil
}
