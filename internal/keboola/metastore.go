package keboola

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// MetastoreObject is one object of the Metastore repository (JSON:API
// resource): its type (e.g. "semantic-dataset"), UUID, attributes (the
// object's data, shaped by the type's JSON schema) and metadata.
type MetastoreObject struct {
	Type       string    `json:"type"`
	ID         string    `json:"id"`
	Attributes RawObject `json:"attributes"`
	Meta       struct {
		Name          string     `json:"name"`
		Branch        FlexString `json:"branch"`
		Revision      int        `json:"revision"`
		SchemaVersion string     `json:"schemaVersion"`
		LastUpdated   string     `json:"lastUpdated"`
	} `json:"meta"`
}

func metastoreTypePath(objectType string) (string, error) {
	if err := checkID("metastore object type", objectType); err != nil {
		return "", err
	}
	return "/api/v1/repository/" + url.PathEscape(objectType), nil
}

// ListMetastoreObjects returns a page of the project's objects of one type.
func (c *Client) ListMetastoreObjects(ctx context.Context, objectType string, limit, offset int) ([]MetastoreObject, error) {
	p, err := metastoreTypePath(objectType)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || offset < 0 {
		return nil, errors.New("keboola: metastore paging needs limit > 0 and offset >= 0")
	}
	var w struct {
		Data []MetastoreObject `json:"data"`
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}
	if err := c.doJSON(ctx, request{service: ServiceMetastore, method: "GET", path: p, query: q}, &w); err != nil {
		return nil, err
	}
	if w.Data == nil {
		return nil, fmt.Errorf("keboola metastore API: GET %s: the answer has no data list", p)
	}
	return w.Data, nil
}

// GetMetastoreObject returns one object by type and UUID.
func (c *Client) GetMetastoreObject(ctx context.Context, objectType, id string) (*MetastoreObject, error) {
	p, err := metastoreTypePath(objectType)
	if err != nil {
		return nil, err
	}
	if err := checkID("metastore object id", id); err != nil {
		return nil, err
	}
	p += "/" + url.PathEscape(id)
	var w struct {
		Data *MetastoreObject `json:"data"`
	}
	if err := c.doJSON(ctx, request{service: ServiceMetastore, method: "GET", path: p}, &w); err != nil {
		return nil, err
	}
	if w.Data == nil {
		return nil, fmt.Errorf("keboola metastore API: GET %s: the answer has no data object", p)
	}
	return w.Data, nil
}

// MetastoreSchema returns the JSON schema of an object type (the newest
// version). Some deployments wrap it as {"schema": {...}}; it is unwrapped.
func (c *Client) MetastoreSchema(ctx context.Context, objectType string) (json.RawMessage, error) {
	if err := checkID("metastore object type", objectType); err != nil {
		return nil, err
	}
	p := "/api/v1/schema/" + url.PathEscape(objectType)
	body, err := c.do(ctx, request{service: ServiceMetastore, method: "GET", path: p})
	if err != nil {
		return nil, err
	}
	var w map[string]json.RawMessage
	if err := json.Unmarshal(body, &w); err != nil || w == nil {
		return nil, fmt.Errorf("keboola metastore API: GET %s: the schema is not a JSON object", p)
	}
	if inner, ok := w["schema"]; ok && checkObject(inner) == nil {
		return inner, nil
	}
	return body, nil
}
