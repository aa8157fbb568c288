package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/dataapp"
)

// Streamlit apps keep their code in the configuration; the tool adds the
// query_data(sql) function of internal/keboola/dataapp to it and gives the
// app the WORKSPACE_ID and BRANCH_ID secrets that function reads.

type modifyStreamlitInput struct {
	Name               string   `json:"name,omitempty" jsonschema:"Name of the data app (its URL prefix is derived from it, at most 50 characters). Required on create; on update, empty keeps the name."`
	Description        string   `json:"description,omitempty" jsonschema:"Description of the data app. On update, empty keeps it."`
	SourceCode         string   `json:"source_code,omitempty" jsonschema:"The complete Streamlit app in Python, with the {QUERY_DATA_FUNCTION} placeholder. Required on create; on update, empty keeps the code."`
	Packages           []string `json:"packages,omitempty" jsonschema:"Extra pip requirements, e.g. [\"plotly\", \"requests~=2.32\"]. On update, empty keeps the current list."`
	AuthenticationType string   `json:"authentication_type,omitempty" jsonschema:"basic-auth protects the app with a password, no-auth makes it public, default keeps an existing app's setting (basic-auth for new apps)."`
	ConfigurationID    string   `json:"configuration_id,omitempty" jsonschema:"Configuration id of the app to update; empty creates a new app."`
	ChangeDescription  string   `json:"change_description,omitempty" jsonschema:"What changed, for the version history (updates)."`
	pythonFolder
}

// placementNote tells where query_data went when the code had no
// placeholder: the description asks for one, and a model that forgot it must
// learn that the function sits at the top (before its own imports), not
// believe the code was taken as written.
func placementNote(source string) string {
	if source == "" || strings.Contains(source, dataapp.QueryPlaceholder) || dataapp.HasQueryData(source) {
		return ""
	}
	return "The source code has no " + dataapp.QueryPlaceholder + " placeholder, so the query_data function was put at the top of the app; " +
		"put the placeholder where it belongs if that place is wrong.\n"
}

func modifyStreamlitDataApp(ctx context.Context, c call, in modifyStreamlitInput) (string, error) {
	if err := onProduction(ctx, c.client); err != nil {
		return "", err
	}
	info, err := c.client.VerifyToken(ctx)
	if err != nil {
		return "", err
	}
	code, err := dataapp.QueryDataCode(firstNonBlank(info.Owner.DefaultBackend, "snowflake"))
	if err != nil {
		return "", errorf("%v", err)
	}
	ws, err := c.client.QueryWorkspace(ctx)
	if err != nil {
		return "", err
	}
	branch, err := c.client.DefaultBranchID(ctx)
	if err != nil {
		return "", err
	}
	if b := c.client.BranchID(); b != "" {
		branch = b
	}
	secrets := map[string]any{dataapp.WorkspaceSecret: ws, "BRANCH_ID": branch}
	if in.ConfigurationID != "" {
		return updateStreamlitApp(ctx, c.client, in, code, secrets)
	}
	if strings.TrimSpace(in.Name) == "" {
		return "", errorf("name is required to create a data app")
	}
	if strings.TrimSpace(in.SourceCode) == "" {
		return "", errorf("source_code is required to create a data app")
	}
	slug := dataapp.DeriveSlug(in.Name, false)
	body := dataapp.NewStreamlit(dataapp.Streamlit{Slug: slug, Source: in.SourceCode, QueryData: code, Packages: in.Packages,
		Secrets: secrets, Authorization: dataapp.Authorization(in.AuthenticationType != "no-auth")})
	raw, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	if raw, err = c.client.EncryptSecrets(ctx, keboola.DataAppComponentID, "", raw); err != nil {
		return "", err
	}
	ds, err := c.client.CreateDataApp(ctx, keboola.NewDataApp{Name: in.Name, Description: in.Description,
		Type: keboola.DataAppTypeStreamlit, Config: raw})
	if err != nil {
		return "", err
	}
	note := markWrittenByMCP(ctx, c.client, keboola.DataAppComponentID, ds.ConfigID.String(), 0) +
		in.applyToNew(ctx, c.client, keboola.DataAppComponentID, ds.ConfigID.String())
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	var f fields
	f.add("Created", "Streamlit data app "+in.Name)
	f.add("Configuration", ds.ConfigID.String())
	f.add("App id", ds.ID.String())
	f.add("Slug", slug)
	f.add("Authentication", body.Authentication())
	return f.String() + placementNote(in.SourceCode) + note + fmt.Sprintf("Next: deploy_data_app(action=deploy, configuration_id=%s) to start it.\n", ds.ConfigID) +
		links("Data app", u.DataApp(ds.ConfigID.String())), nil
}

func updateStreamlitApp(ctx context.Context, c *keboola.Client, in modifyStreamlitInput, code string, secrets map[string]any) (string, error) {
	a, err := loadApp(ctx, c, in.ConfigurationID)
	if err != nil {
		return "", err
	}
	if a.ds.Type != keboola.DataAppTypeStreamlit {
		return "", errorf("configuration %s is a %s app; modify_streamlit_data_app changes Streamlit apps only", in.ConfigurationID, a.ds.Type)
	}
	edit := dataapp.Streamlit{Source: in.SourceCode, QueryData: code, Packages: in.Packages, Secrets: secrets}
	if n := strings.TrimSpace(in.Name); n != "" {
		edit.Slug = dataapp.DeriveSlug(n, false)
	}
	if in.AuthenticationType == "basic-auth" || in.AuthenticationType == "no-auth" {
		edit.Authorization = dataapp.Authorization(in.AuthenticationType == "basic-auth")
	}
	if err := a.body.UpdateStreamlit(edit); err != nil {
		return "", errorf("configuration %s lacks parameters.dataApp; it is not a Streamlit app this tool can edit", in.ConfigurationID)
	}
	return saveDataAppUpdate(ctx, c, a, a.body, appUpdate{configID: in.ConfigurationID, name: in.Name, description: in.Description,
		change: firstNonBlank(in.ChangeDescription, "Update Streamlit data app"), folder: in.pythonFolder}, []string{strings.TrimSpace(placementNote(strings.TrimSpace(in.SourceCode)))})
}
