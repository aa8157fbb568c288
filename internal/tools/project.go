package tools

import (
	"context"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

var projectTools = []Tool{
	define("get_project_info", "Get project info",
		"Returns the basics of the Keboola project: name and id, stack, the branch in use, the SQL dialect of its "+
			"backend (write query_data SQL in it), the project description and links. Call it first in a session.",
		hints{readOnly: true, idempotent: true}, nil, getProjectInfo),
	define("update_project_description", "Update project description",
		"Replaces the project's description (Markdown) shown on the project dashboard. Use it when the user asks "+
			"to document the project; read the current one with get_project_info first.",
		hints{destructive: true, idempotent: true}, func(s *jsonschema.Schema) { minLen(s, "description", 1) },
		updateProjectDescription),
}

type getProjectInfoInput struct{}

func getProjectInfo(ctx context.Context, c call, _ getProjectInfoInput) (string, error) {
	info, err := c.client.VerifyToken(ctx)
	if err != nil {
		return "", err
	}
	meta, err := c.client.BranchMetadata(ctx)
	if err != nil {
		return "", err
	}
	desc, _ := meta.Get(keboola.MetadataKeyProjectDescription)
	var f fields
	f.add("Project", info.Owner.Name+" (id "+info.Owner.ID.String()+")")
	f.add("Stack", c.client.StackURL())
	f.add("Organization id", info.Organization.ID.String())
	branch := "main (default branch)"
	if b := c.client.BranchID(); b != "" {
		branch = "development branch " + b
	}
	f.add("Branch", branch)
	f.add("SQL dialect", dialect(info.Owner).name)
	f.add("Token", tokenKind(info))
	var b strings.Builder
	b.WriteString(f.String())
	if desc != "" {
		b.WriteString("\nDescription:\n")
		b.WriteString(strings.TrimSpace(desc))
		b.WriteString("\n")
	} else {
		b.WriteString("\nThe project has no description yet (update_project_description sets one).\n")
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	b.WriteString(links("Project dashboard", u.Project(), "Storage", u.Storage(), "Jobs", u.Jobs()))
	return b.String(), nil
}

func tokenKind(info *keboola.TokenInfo) string {
	kind := "limited token"
	if info.IsMasterToken {
		kind = "master token"
	}
	if info.Description != "" {
		kind += " \"" + oneLine(info.Description) + "\""
	}
	return kind
}

type updateProjectDescriptionInput struct {
	Description string `json:"description" jsonschema:"The new project description in Markdown; it replaces the current one."`
}

func updateProjectDescription(ctx context.Context, c call, in updateProjectDescriptionInput) (string, error) {
	if strings.TrimSpace(in.Description) == "" {
		return "", errorf("description must not be empty")
	}
	if _, err := c.client.SetBranchMetadata(ctx, []keboola.MetadataInput{{Key: keboola.MetadataKeyProjectDescription, Value: in.Description}}); err != nil {
		return "", err
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	return "The project description was updated.\n" + links("Project dashboard", u.Project()), nil
}

// sqlDialect is how SQL is written for a project's backend.
type sqlDialect struct {
	name    string
	backend string // as keboola.Table.SQLName and CreateWorkspace name it
	// quoteHint tells the model how to quote column names.
	quoteHint string
}

var (
	snowflake = sqlDialect{name: "Snowflake", backend: "snowflake",
		quoteHint: `with double quotes, case-sensitive: "customer_id"`}
	bigquery = sqlDialect{name: "BigQuery", backend: "bigquery", quoteHint: "with backticks: `customer_id`"}
)

func dialect(p keboola.Project) sqlDialect {
	if p.Backend() == bigquery.backend {
		return bigquery
	}
	return snowflake
}
