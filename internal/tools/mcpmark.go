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
	Folder *string `json:"folder,omitempty" jsonschema:"The Keboola UI folder to file this under, e.g. Sales; an empty string takes it out of its folder; leave out to keep the current folder."`
}

// folderMetadataKey is the configuration metadata the Keboola UI reads a
// configuration's folder from.
const folderMetadataKey = "KBC.configuration.folderName"

// changesFolder reports whether the call files the configuration into a
// folder or, with an empty folder, takes it out of one: a change on its own.
func (f pythonFolder) changesFolder() bool { return f.Folder != nil }

// applyToNew files a configuration just created; an empty folder files
// nothing, as a new configuration is in no folder yet.
func (f pythonFolder) applyToNew(ctx context.Context, client *keboola.Client, compID, cfgID string) string {
	if f.Folder == nil || strings.TrimSpace(*f.Folder) == "" {
		return ""
	}
	return f.apply(ctx, client, compID, cfgID)
}

// apply changes the folder of a configuration whose other changes are saved
// already, so a failure is told in the answer rather than failing the call
// (the Python server logs it and carries on): a repeat would redo the saved
// change.
func (f pythonFolder) apply(ctx context.Context, client *keboola.Client, compID, cfgID string) string {
	done, err := f.change(ctx, client, compID, cfgID)
	if err != nil {
		return fmt.Sprintf("The change is saved, but %v\n", err)
	}
	return done
}

// applyAlone changes the folder when that is all the call changes: a
// failure fails the call, as nothing was saved.
func (f pythonFolder) applyAlone(ctx context.Context, client *keboola.Client, compID, cfgID string) (string, error) {
	done, err := f.change(ctx, client, compID, cfgID)
	if err != nil {
		return "", errorf("The configuration is unchanged: %v", err)
	}
	return done, nil
}

// change files the configuration into the folder or, when the folder is
// empty, takes it out of its folder. It returns what it did, or what failed.
func (f pythonFolder) change(ctx context.Context, client *keboola.Client, compID, cfgID string) (string, error) {
	if f.Folder == nil {
		return "", nil
	}
	name := strings.TrimSpace(*f.Folder)
	if name == "" {
		return removeFromFolder(ctx, client, compID, cfgID)
	}
	if _, err := client.SetConfigMetadata(ctx, compID, cfgID, []keboola.MetadataInput{{Key: folderMetadataKey, Value: name}}); err != nil {
		return "", fmt.Errorf("filing it in folder %q failed: %w", name, err)
	}
	return fmt.Sprintf("Filed in folder %q.\n", name), nil
}

// removeFromFolder deletes every folder entry of a configuration: the key
// may be set once per provider, and any one left would keep it filed (the
// Python server's clear_configuration_folder_metadata deletes them all too).
func removeFromFolder(ctx context.Context, client *keboola.Client, compID, cfgID string) (string, error) {
	md, err := client.ConfigMetadata(ctx, compID, cfgID)
	if err != nil {
		return "", fmt.Errorf("reading its folder to take it out failed: %w", err)
	}
	folder, filed := md.Get(folderMetadataKey)
	if !filed {
		return "It was in no folder, so there was no folder to take it out of.\n", nil
	}
	for _, e := range md {
		if e.Key != folderMetadataKey {
			continue
		}
		if err := client.DeleteConfigMetadata(ctx, compID, cfgID, e.ID.String()); err != nil {
			return "", fmt.Errorf("taking it out of folder %q failed: %w", folder, err)
		}
	}
	return fmt.Sprintf("Removed from folder %q.\n", folder), nil
}
