package keboola

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
)

// EncryptSecrets has the Encryption service encrypt every value under a key
// starting with "#" in body (a JSON object, e.g. a configuration), for the
// client's project and the given component (and configuration, when known).
// Values already encrypted ("KBC::…") come back unchanged. The Encryption
// API takes no token, so none is sent; the project id comes from the cached
// token verification.
func (c *Client) EncryptSecrets(ctx context.Context, componentID, configID string, body json.RawMessage) (json.RawMessage, error) {
	if err := checkID("component id", componentID); err != nil {
		return nil, err
	}
	if configID != "" {
		if err := checkID("configuration id", configID); err != nil {
			return nil, err
		}
	}
	if err := checkObject(body); err != nil {
		return nil, err
	}
	info, err := c.VerifyToken(ctx)
	if err != nil {
		return nil, err
	}
	if info.Owner.ID == "" {
		return nil, errors.New("keboola: the token's project id is unknown")
	}
	q := url.Values{"projectId": {string(info.Owner.ID)}, "componentId": {componentID}}
	if configID != "" {
		q.Set("configId", configID)
	}
	// Encrypting is a pure function of its input, so a repeat is harmless.
	out, err := c.do(ctx, request{service: ServiceEncryption, method: "POST", path: "/encrypt", query: q,
		body: body, idempotent: true, noAuth: true})
	if err != nil {
		return nil, err
	}
	if err := checkObject(out); err != nil {
		return nil, errors.New("keboola: the Encryption service did not return a JSON object")
	}
	return out, nil
}
