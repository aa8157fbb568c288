package keboola

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// RawObject is a JSON object kept verbatim (configuration bodies, state,
// schemas). Keboola sends an empty object as [], which decodes as {}.
type RawObject json.RawMessage

// UnmarshalJSON implements json.Unmarshaler.
func (r *RawObject) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("[]")) {
		*r = RawObject("{}")
		return nil
	}
	*r = append((*r)[:0], b...)
	return nil
}

// MarshalJSON implements json.Marshaler; an empty RawObject is null.
func (r RawObject) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

// Component types accepted by ListComponents.
const (
	ComponentTypeExtractor      = "extractor"
	ComponentTypeWriter         = "writer"
	ComponentTypeTransformation = "transformation"
	ComponentTypeApplication    = "application"
)

// Component is a Keboola component (an extractor, writer, transformation, app).
type Component struct {
	ID                     string    `json:"id"`
	Type                   string    `json:"type"`
	Name                   string    `json:"name"`
	Description            string    `json:"description"`
	LongDescription        string    `json:"longDescription"`
	DocumentationURL       string    `json:"documentationUrl"`
	Flags                  []string  `json:"flags"`
	ConfigurationSchema    RawObject `json:"configurationSchema,omitempty"`
	ConfigurationRowSchema RawObject `json:"configurationRowSchema,omitempty"`
	// Configurations is filled by ListComponents with IncludeConfigs.
	Configurations []Config `json:"configurations,omitempty"`
}

// UsesOAuth reports whether the component signs in with OAuth (its UI has
// the Developer Portal's genericDockerUI-authorization option).
func (c *Component) UsesOAuth() bool {
	return slices.Contains(c.Flags, "genericDockerUI-authorization")
}

// ListComponentsOptions filter ListComponents.
type ListComponentsOptions struct {
	// Types keeps components of these types (see ComponentType*); empty keeps all.
	Types []string
	// IncludeConfigs also returns each component's configurations and rows.
	IncludeConfigs bool
}

var componentTypes = map[string]bool{
	ComponentTypeExtractor: true, ComponentTypeWriter: true, ComponentTypeTransformation: true, ComponentTypeApplication: true,
}

// ListComponents returns the components used in the client's branch. Without
// IncludeConfigs Keboola lists only components that have configurations.
func (c *Client) ListComponents(ctx context.Context, opts ListComponentsOptions) ([]Component, error) {
	q := url.Values{}
	if opts.IncludeConfigs {
		q.Set("include", "configuration,rows")
	}
	types := opts.Types
	if len(types) == 0 {
		types = []string{""}
	}
	var out []Component
	// The API filters one type per request.
	for _, t := range types {
		if t != "" && !componentTypes[t] {
			return nil, fmt.Errorf("keboola: unknown component type %q (use extractor, writer, transformation or application)", t)
		}
		qt := url.Values{}
		for k, v := range q {
			qt[k] = v
		}
		if t != "" {
			qt.Set("componentType", t)
		}
		var page []Component
		if err := c.doJSON(ctx, request{method: "GET", path: c.branchPath("/components"), query: qt}, &page); err != nil {
			return nil, err
		}
		for i := range page {
			page[i].setConfigComponentIDs()
		}
		out = append(out, page...)
	}
	return out, nil
}

func (comp *Component) setConfigComponentIDs() {
	for i := range comp.Configurations {
		comp.Configurations[i].ComponentID = comp.ID
	}
}

// GetComponent returns a component's detail, including its configuration schemas.
func (c *Client) GetComponent(ctx context.Context, componentID string) (*Component, error) {
	if err := checkID("component id", componentID); err != nil {
		return nil, err
	}
	var out Component
	if err := c.doJSON(ctx, request{method: "GET", path: c.branchPath("/components/" + url.PathEscape(componentID))}, &out); err != nil {
		return nil, err
	}
	out.setConfigComponentIDs()
	return &out, nil
}

// Config is a component configuration.
type Config struct {
	ID FlexString `json:"id"`
	// ComponentID is set by the client (the API omits it in most answers).
	ComponentID       string      `json:"componentId"`
	Name              string      `json:"name"`
	Description       string      `json:"description"`
	Version           int         `json:"version"`
	IsDisabled        bool        `json:"isDisabled"`
	IsDeleted         bool        `json:"isDeleted"`
	ChangeDescription string      `json:"changeDescription"`
	Created           Time        `json:"created"`
	Configuration     RawObject   `json:"configuration,omitempty"`
	Rows              []ConfigRow `json:"rows,omitempty"`
	State             RawObject   `json:"state,omitempty"`
}

// ConfigRow is one row of a configuration (e.g. one table of an extractor).
type ConfigRow struct {
	ID                FlexString `json:"id"`
	Name              string     `json:"name"`
	Description       string     `json:"description"`
	Version           int        `json:"version"`
	IsDisabled        bool       `json:"isDisabled"`
	ChangeDescription string     `json:"changeDescription"`
	Configuration     RawObject  `json:"configuration,omitempty"`
	State             RawObject  `json:"state,omitempty"`
}

// ConfigInput creates a configuration or a row.
type ConfigInput struct {
	Name          string
	Description   string
	Configuration json.RawMessage
	// ChangeDescription explains the change in the version history.
	ChangeDescription string
	IsDisabled        bool
}

// ConfigUpdate changes a configuration or a row; nil fields stay as they are.
type ConfigUpdate struct {
	Name          *string
	Description   *string
	Configuration json.RawMessage
	IsDisabled    *bool
	// ChangeDescription explains the change in the version history.
	ChangeDescription string
}

func (in ConfigInput) body() (map[string]any, error) {
	if strings.TrimSpace(in.Name) == "" {
		return nil, errors.New("keboola: a configuration name is required")
	}
	b := map[string]any{"name": in.Name, "description": in.Description}
	if len(in.Configuration) > 0 {
		if err := checkObject(in.Configuration); err != nil {
			return nil, err
		}
		b["configuration"] = in.Configuration
	}
	if in.ChangeDescription != "" {
		b["changeDescription"] = in.ChangeDescription
	}
	if in.IsDisabled {
		b["isDisabled"] = true
	}
	return b, nil
}

func (u ConfigUpdate) body() (map[string]any, error) {
	b := map[string]any{}
	if u.Name != nil {
		if strings.TrimSpace(*u.Name) == "" {
			return nil, errors.New("keboola: a configuration name must not be empty")
		}
		b["name"] = *u.Name
	}
	if u.Description != nil {
		b["description"] = *u.Description
	}
	if len(u.Configuration) > 0 {
		if err := checkObject(u.Configuration); err != nil {
			return nil, err
		}
		b["configuration"] = u.Configuration
	}
	if u.IsDisabled != nil {
		b["isDisabled"] = *u.IsDisabled
	}
	if len(b) == 0 {
		return nil, errors.New("keboola: the update changes nothing")
	}
	if u.ChangeDescription != "" {
		b["changeDescription"] = u.ChangeDescription
	}
	return b, nil
}

func checkObject(raw json.RawMessage) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return errors.New("keboola: a configuration body must be a JSON object")
	}
	return nil
}

// configsPathIn is the configurations path of a component on branch {b}
// ("default" or a numeric id).
func configsPathIn(branch, componentID string) (string, error) {
	if err := checkID("component id", componentID); err != nil {
		return "", err
	}
	return "/v2/storage/branch/" + branch + "/components/" + url.PathEscape(componentID) + "/configs", nil
}

func (c *Client) configPath(componentID, configID string) (string, error) {
	return configPathIn(c.branchSegment(), componentID, configID)
}

func configPathIn(branch, componentID, configID string) (string, error) {
	base, err := configsPathIn(branch, componentID)
	if err != nil {
		return "", err
	}
	if err := checkID("configuration id", configID); err != nil {
		return "", err
	}
	return base + "/" + url.PathEscape(configID), nil
}

// ListConfigs returns the configurations of a component.
func (c *Client) ListConfigs(ctx context.Context, componentID string) ([]Config, error) {
	return c.listConfigsIn(ctx, c.branchSegment(), componentID)
}

func (c *Client) listConfigsIn(ctx context.Context, branch, componentID string) ([]Config, error) {
	p, err := configsPathIn(branch, componentID)
	if err != nil {
		return nil, err
	}
	var out []Config
	if err := c.doJSON(ctx, request{method: "GET", path: p}, &out); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].ComponentID = componentID
	}
	return out, nil
}

// GetConfig returns a configuration with its body and rows.
func (c *Client) GetConfig(ctx context.Context, componentID, configID string) (*Config, error) {
	p, err := c.configPath(componentID, configID)
	if err != nil {
		return nil, err
	}
	var out Config
	if err := c.doJSON(ctx, request{method: "GET", path: p}, &out); err != nil {
		return nil, err
	}
	out.ComponentID = componentID
	return &out, nil
}

// CreateConfig creates a configuration. It is not retried on server errors:
// a repeat could create a duplicate.
func (c *Client) CreateConfig(ctx context.Context, componentID string, in ConfigInput) (*Config, error) {
	return c.createConfigIn(ctx, c.branchSegment(), componentID, in)
}

func (c *Client) createConfigIn(ctx context.Context, branch, componentID string, in ConfigInput) (*Config, error) {
	p, err := configsPathIn(branch, componentID)
	if err != nil {
		return nil, err
	}
	body, err := in.body()
	if err != nil {
		return nil, err
	}
	var out Config
	if err := c.doJSON(ctx, request{method: "POST", path: p, body: body}, &out); err != nil {
		return nil, err
	}
	out.ComponentID = componentID
	return &out, nil
}

// UpdateConfig changes a configuration (PUT). A concurrent change gives an
// error matching ErrConflict, which is not retried: re-read and re-apply.
func (c *Client) UpdateConfig(ctx context.Context, componentID, configID string, u ConfigUpdate) (*Config, error) {
	p, err := c.configPath(componentID, configID)
	if err != nil {
		return nil, err
	}
	body, err := u.body()
	if err != nil {
		return nil, err
	}
	var out Config
	if err := c.doJSON(ctx, request{method: "PUT", path: p, body: body}, &out); err != nil {
		return nil, err
	}
	out.ComponentID = componentID
	return &out, nil
}

// DeleteConfig moves a configuration to the trash.
func (c *Client) DeleteConfig(ctx context.Context, componentID, configID string) error {
	p, err := c.configPath(componentID, configID)
	if err != nil {
		return err
	}
	return c.doJSON(ctx, request{method: "DELETE", path: p}, nil)
}

// ListConfigRows returns the rows of a configuration.
func (c *Client) ListConfigRows(ctx context.Context, componentID, configID string) ([]ConfigRow, error) {
	p, err := c.configPath(componentID, configID)
	if err != nil {
		return nil, err
	}
	var out []ConfigRow
	err = c.doJSON(ctx, request{method: "GET", path: p + "/rows"}, &out)
	return out, err
}

// CreateConfigRow adds a row to a configuration (not retried on server errors).
func (c *Client) CreateConfigRow(ctx context.Context, componentID, configID string, in ConfigInput) (*ConfigRow, error) {
	p, err := c.configPath(componentID, configID)
	if err != nil {
		return nil, err
	}
	body, err := in.body()
	if err != nil {
		return nil, err
	}
	var out ConfigRow
	if err := c.doJSON(ctx, request{method: "POST", path: p + "/rows", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateConfigRow changes a configuration row (PUT); conflicts match ErrConflict.
func (c *Client) UpdateConfigRow(ctx context.Context, componentID, configID, rowID string, u ConfigUpdate) (*ConfigRow, error) {
	p, err := c.configPath(componentID, configID)
	if err != nil {
		return nil, err
	}
	if err := checkID("row id", rowID); err != nil {
		return nil, err
	}
	body, err := u.body()
	if err != nil {
		return nil, err
	}
	var out ConfigRow
	if err := c.doJSON(ctx, request{method: "PUT", path: p + "/rows/" + url.PathEscape(rowID), body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
