package keboola

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
)

// RunSyncAction runs a component's synchronous action (e.g. testConnection,
// getTables) with configData, usually {"parameters": …, "storage": …}, and
// returns the component's JSON answer. configData may carry secrets: it is
// never logged. On a development branch the branch id is sent along.
// Actions are not retried: some of them change things outside Keboola.
func (c *Client) RunSyncAction(ctx context.Context, componentID, action string, configData json.RawMessage) (json.RawMessage, error) {
	if err := checkID("component id", componentID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(action) == "" || strings.ContainsAny(action, "/?# ") {
		return nil, errors.New("keboola: a sync action name is required and must be a plain word")
	}
	if err := checkObject(configData); err != nil {
		return nil, err
	}
	body := map[string]any{"componentId": componentID, "action": action, "configData": configData}
	if c.branchID != "" {
		body["branchId"] = c.branchID
	}
	out, err := c.do(ctx, request{service: ServiceSyncActions, method: "POST", path: "/actions", body: body})
	if err != nil {
		return nil, err
	}
	if !json.Valid(out) {
		return nil, errors.New("keboola: the sync action did not answer with JSON")
	}
	return out, nil
}
