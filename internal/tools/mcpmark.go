package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// createdChange is the version-history note of every configuration a tool
// creates, so the history reads the same whichever tool made it.
const createdChange = "Created by the Keboola MCP server"

// This file holds every writer of configuration metadata: the markers of
// changes made through the MCP server, and the folder a configuration is
// filed in.

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

// pythonFolder is the Python server's folder parameter: the Keboola UI
// groups configurations into folders by their KBC.configuration.folderName
// metadata.
type pythonFolder struct {
	Folder *string `json:"folder,omitempty" jsonschema:"The Keboola UI folder to file this under, e.g. Sales; leave out to keep the current folder."`
}

// folderMetadataKey is the configuration metadata the Keboola UI reads a
// configuration's folder from.
const folderMetadataKey = "KBC.configuration.folderName"

// given reports whether the call names a folder to file into.
func (f pythonFolder) given() bool { return f.Folder != nil && strings.TrimSpace(*f.Folder) != "" }

// apply files the written configuration into the folder and says so. The
// configuration is saved already, so a failure is told in the answer rather
// than failing the call (as the Python server does).
func (f pythonFolder) apply(ctx context.Context, client *keboola.Client, compID, cfgID string) string {
	switch {
	case f.Folder == nil:
		return ""
	case !f.given():
		return "Removing a configuration from its folder is not supported here; the folder is unchanged.\n"
	}
	name := strings.TrimSpace(*f.Folder)
	if _, err := client.SetConfigMetadata(ctx, compID, cfgID, []keboola.MetadataInput{{Key: folderMetadataKey, Value: name}}); err != nil {
		return fmt.Sprintf("The change is saved, but filing it in folder %q failed: %v\n", name, err)
	}
	return fmt.Sprintf("Filed in folder %q.\n", name)
}
