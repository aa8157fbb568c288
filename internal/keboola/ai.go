package keboola

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// DocsAnswer is the AI Service's answer to a documentation question.
type DocsAnswer struct {
	Text       string
	SourceURLs []string
}

// AskDocs asks the AI Service a question about Keboola's documentation.
func (c *Client) AskDocs(ctx context.Context, question string) (*DocsAnswer, error) {
	if strings.TrimSpace(question) == "" {
		return nil, errors.New("keboola: a question is required")
	}
	// Two answer shapes are in use: {text, sourceUrls} (observed) and
	// {response, metadata{sources}} (older spec); read both.
	var w struct {
		Text       string   `json:"text"`
		SourceURLs []string `json:"sourceUrls"`
		Response   string   `json:"response"`
		Metadata   struct {
			Sources []string `json:"sources"`
		} `json:"metadata"`
	}
	// Asking twice has no side effect, so the call is retried like a read.
	if err := c.doJSON(ctx, request{service: ServiceAI, method: "POST", path: "/docs/question",
		body: map[string]any{"query": question}, idempotent: true}, &w); err != nil {
		return nil, err
	}
	a := &DocsAnswer{Text: w.Text, SourceURLs: w.SourceURLs}
	if a.Text == "" {
		a.Text = w.Response
	}
	if len(a.SourceURLs) == 0 {
		a.SourceURLs = w.Metadata.Sources
	}
	return a, nil
}

// ComponentSuggestion is a component the AI Service deems fit for a task.
type ComponentSuggestion struct {
	ComponentID string  `json:"componentId"`
	Score       float64 `json:"score"`
	Source      string  `json:"source"`
}

// SuggestComponents asks the AI Service which components fit a task described in words.
func (c *Client) SuggestComponents(ctx context.Context, prompt string) ([]ComponentSuggestion, error) {
	if strings.TrimSpace(prompt) == "" {
		return nil, errors.New("keboola: a description of the task is required")
	}
	var w struct {
		Components []ComponentSuggestion `json:"components"`
	}
	if err := c.doJSON(ctx, request{service: ServiceAI, method: "POST", path: "/suggest/component",
		body: map[string]any{"prompt": prompt}, idempotent: true}, &w); err != nil {
		return nil, err
	}
	return w.Components, nil
}

// ComponentDocs is documentation and examples for configuring a component.
type ComponentDocs struct {
	ComponentID               string      `json:"componentId"`
	Documentation             string      `json:"documentation"`
	DocumentationURL          string      `json:"documentationUrl"`
	ConfigurationSchema       RawObject   `json:"configurationSchema,omitempty"`
	ConfigurationRowSchema    RawObject   `json:"configurationRowSchema,omitempty"`
	RootConfigurationExamples []RawObject `json:"rootConfigurationExamples,omitempty"`
	RowConfigurationExamples  []RawObject `json:"rowConfigurationExamples,omitempty"`
	// FromStorage is true when the AI Service had no entry and the
	// Storage API component detail (schemas, no examples) was used instead.
	FromStorage bool `json:"-"`
}

// GetComponentDocs returns the AI Service's documentation of a component,
// falling back to the Storage API component detail when the AI Service does
// not know the component.
func (c *Client) GetComponentDocs(ctx context.Context, componentID string) (*ComponentDocs, error) {
	if err := checkID("component id", componentID); err != nil {
		return nil, err
	}
	var docs ComponentDocs
	err := c.doJSON(ctx, request{service: ServiceAI, method: "GET", path: "/docs/components/" + url.PathEscape(componentID)}, &docs)
	if err == nil {
		docs.ComponentID = componentID
		return &docs, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	comp, serr := c.GetComponent(ctx, componentID)
	if serr != nil {
		return nil, fmt.Errorf("keboola: component %s: %w", componentID, serr)
	}
	return &ComponentDocs{
		ComponentID:            componentID,
		Documentation:          firstNonEmpty(comp.LongDescription, comp.Description),
		DocumentationURL:       comp.DocumentationURL,
		ConfigurationSchema:    comp.ConfigurationSchema,
		ConfigurationRowSchema: comp.ConfigurationRowSchema,
		FromStorage:            true,
	}, nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
