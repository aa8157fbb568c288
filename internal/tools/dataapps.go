package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/dataapp"
)

// Data apps are Streamlit or python-js web apps run by the Data Science
// API; their settings live in Storage configurations of keboola.data-apps,
// which internal/keboola/dataapp reads and shapes (production apps, drafts,
// git binding). The tools never run git: they hand out clone URLs and manage
// configurations and deploys.
var dataAppTools = []Tool{
	define("get_data_apps", "List or get data apps",
		"Without configuration_ids: lists the project's data apps (configuration id, name, type, state, URL, "+
			"and the production app a draft belongs to), paged with limit/offset. With configuration_ids: each "+
			"app in full: state, URL, authentication, its configuration (secrets redacted), the outcome of the "+
			"last deployment (check its failure first when an app does not start), recent log lines, and for "+
			"python-js apps the git repository, the pinned branch and the drafts of a production app. To find an "+
			"app by name prefer search.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) { paging(s, listPage, listPageMax) },
		getDataApps),
	define("deploy_data_app", "Deploy or stop a data app",
		"action=deploy starts a data app, or restarts it when it runs, so it serves its latest configuration "+
			"(Streamlit) or the head of its git branch (python-js); action=stop suspends it. Deploying takes a "+
			"while: the answer shows the state, URL and the last deployment's outcome; call get_data_apps later "+
			"to follow up. mode=dev runs a python-js draft as a development preview (hot reload); leave mode "+
			"empty otherwise.",
		hints{}, func(s *jsonschema.Schema) {
			enum(s, "action", "deploy", "stop")
			enum(s, "mode", "dev", "production")
		}, deployDataApp),
	define("modify_streamlit_data_app", "Create or update a Streamlit data app",
		"Creates a Streamlit data app, or updates one (configuration_id). source_code is a complete Streamlit "+
			"app; put the placeholder {QUERY_DATA_FUNCTION} where a query_data(sql) function should go: it runs "+
			"one SQL query in the project's workspace and returns a pandas DataFrame whose columns are all "+
			"strings, so convert types in Python (pd.to_numeric, pd.to_datetime). Write SQL for the project's "+
			"dialect with quoted identifiers as get_tables shows them, and try it with query_data first. "+
			"packages are pip requirements besides pandas and httpx. On update, empty values keep what the app "+
			"has. authentication_type: basic-auth (password), no-auth (public), default (basic-auth for new "+
			"apps, unchanged on update). After creating or updating, call deploy_data_app(action=deploy) or the "+
			"app keeps running the old code.",
		hints{destructive: true}, func(s *jsonschema.Schema) {
			enum(s, "authentication_type", "default", "basic-auth", "no-auth")
		}, modifyStreamlitDataApp),
	define("modify_python_js_data_app", "Create or update a python-js data app",
		"Creates or updates a python-js data app. Its code lives in git, never in this tool: you clone, commit "+
			"and push yourself. Model: one production app owns the managed repository; changes are made on a "+
			"draft, a second app pinned to a branch of that repository, previewed with deploy_data_app(mode=dev), "+
			"approved by the user, merged into main by you, deployed on the production app, and the draft is then "+
			"removed with delete_python_js_data_app_draft. Never push to main directly.\n"+
			"Create a production app: name (and optionally slug) → its repository URL; mint push access with "+
			"create_python_js_data_app_git_credential. Create a draft: also parent_configuration_id of the "+
			"production app and branch (default init, not main) → a clone URL with a fresh token embedded. "+
			"Update (configuration_id): name, description, authentication_type, auto_suspend_after_seconds, "+
			"storage, and branch of a draft or other external-git app; slug and parent cannot change. Redeploy "+
			"after an update. New apps use HTTP basic authentication unless authentication_type=no-auth; "+
			"default keeps an existing app's authentication.",
		hints{destructive: true}, func(s *jsonschema.Schema) {
			enum(s, "authentication_type", "default", "basic-auth", "no-auth")
			bounds(s, "auto_suspend_after_seconds", 60, 86400, 900)
		}, modifyPythonJSDataApp),
	define("create_python_js_data_app_git_credential", "Mint git access to a data app",
		"Mints a new read-write HTTPS token for the managed git repository of a python-js production app and "+
			"returns a clone URL with the token embedded (https://kai:<token>@host/path.git) plus the token. "+
			"Keboola shows a token only once: keep the URL for the session. Earlier tokens stay valid. Drafts "+
			"and Streamlit apps have no repository of their own: call it with the production app's "+
			"configuration id.",
		hints{}, func(s *jsonschema.Schema) { minLen(s, "configuration_id", 1) },
		createDataAppGitCredential),
	define("delete_python_js_data_app_draft", "Delete a python-js draft",
		"Deletes a python-js draft data app (the app and its configuration, which goes to the trash) once its "+
			"branch is merged and the production app redeployed. Refuses production apps and Streamlit apps. "+
			"It does not touch git: delete the branch yourself. Returns the production app's configuration id.",
		hints{destructive: true, idempotent: true}, func(s *jsonschema.Schema) { minLen(s, "configuration_id", 1) },
		deletePythonJSDraft),
}

const (
	// appLogLines and appRunLogLines bound the diagnostics shown for an app;
	// the tail is where the failing line is.
	appLogLines    = 20
	appRunLogLines = 15
	appFailureMax  = 2000
	// storageWorkspaceFeature lets the platform give each app its own
	// workspace; without it the app gets the MCP server's workspace id.
	storageWorkspaceFeature = "data-apps-storage-workspace"
)

// app is a data app with its Storage configuration, decoded.
type app struct {
	cfg  *keboola.Config
	body dataapp.Body
	ds   *keboola.DataApp
}

// onProduction refuses data app work on a development branch: the Data
// Science API serves apps of the production branch only.
func onProduction(ctx context.Context, c *keboola.Client) error {
	b := c.BranchID()
	if b == "" {
		return nil
	}
	// A session may name the default branch by its id.
	def, err := c.DefaultBranchID(ctx)
	if err != nil {
		return err
	}
	if b != def {
		return errorf("data apps can be managed only on the production branch; this session works on development branch %s", b)
	}
	return nil
}

// loadApp reads a data app by its configuration id.
func loadApp(ctx context.Context, c *keboola.Client, configID string) (*app, error) {
	configID = strings.TrimSpace(configID)
	if configID == "" {
		return nil, errorf("configuration_id is required")
	}
	cfg, err := c.GetConfig(ctx, keboola.DataAppComponentID, configID)
	if errors.Is(err, keboola.ErrNotFound) {
		return nil, errorf("data app configuration %s not found; get_data_apps lists the data apps", configID)
	}
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, body: map[string]any{}}
	if len(cfg.Configuration) > 0 {
		if err := json.Unmarshal(cfg.Configuration, &a.body); err != nil {
			return nil, fmt.Errorf("data app configuration %s is not a JSON object: %w", configID, err)
		}
	}
	params, _ := a.body["parameters"].(map[string]any)
	appID, _ := params["id"].(string)
	if appID == "" {
		return nil, errorf("configuration %s has no data app behind it (parameters.id is empty); it may never have been deployed through the Data Science API", configID)
	}
	a.ds, err = c.GetDataApp(ctx, appID)
	if errors.Is(err, keboola.ErrNotFound) {
		return nil, errorf("the data app %s of configuration %s no longer exists", appID, configID)
	}
	if err != nil {
		return nil, err
	}
	if a.ds.ComponentID != "" && a.ds.ComponentID != keboola.DataAppComponentID {
		return nil, errorf("data app %s belongs to component %s; only %s apps are supported", appID, a.ds.ComponentID, keboola.DataAppComponentID)
	}
	return a, nil
}

type getDataAppsInput struct {
	ConfigurationIDs []string `json:"configuration_ids,omitempty" jsonschema:"Configuration ids of the data apps to describe in full. Leave empty to list the data apps."`
	Limit            int      `json:"limit,omitempty" jsonschema:"Maximum number of data apps to list."`
	Offset           int      `json:"offset,omitempty" jsonschema:"Number of data apps to skip, for paging."`
}

func getDataApps(ctx context.Context, c call, in getDataAppsInput) (string, error) {
	if err := onProduction(ctx, c.client); err != nil {
		return "", err
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	if len(in.ConfigurationIDs) > 0 {
		return dataAppDetails(ctx, c.client, u, in.ConfigurationIDs)
	}
	limit := defaultInt(in.Limit, listPage)
	// One extra tells whether another page exists. The Data Science API
	// knows no names; one configuration listing, read meanwhile, adds them
	// (and the draft relation) for the whole page.
	var (
		wg              sync.WaitGroup
		apps            []keboola.DataApp
		cfgs            []keboola.Config
		appsErr, cfgErr error
	)
	wg.Go(func() { apps, appsErr = c.client.ListDataApps(ctx, limit+1, in.Offset) })
	wg.Go(func() { cfgs, cfgErr = c.client.ListConfigs(ctx, keboola.DataAppComponentID) })
	wg.Wait()
	if appsErr != nil {
		return "", appsErr
	}
	if cfgErr != nil && !errors.Is(cfgErr, keboola.ErrNotFound) {
		return "", cfgErr
	}
	more := len(apps) > limit
	apps = apps[:min(len(apps), limit)]
	byID := map[string]*app{}
	for i := range cfgs {
		a := &app{cfg: &cfgs[i], body: map[string]any{}}
		_ = json.Unmarshal(cfgs[i].Configuration, &a.body) // a malformed body only loses the draft column
		byID[cfgs[i].ID.String()] = a
	}
	var rows [][]string
	for _, ds := range apps {
		if ds.ComponentID != "" && ds.ComponentID != keboola.DataAppComponentID {
			continue
		}
		name, draftOf := "", ""
		if a := byID[ds.ConfigID.String()]; a != nil {
			name = a.cfg.Name
			if a.body.IsDraft() {
				draftOf = a.body.ParentConfigID()
			}
		}
		rows = append(rows, []string{ds.ConfigID.String(), name, ds.Type, ds.State, ds.URL, draftOf})
	}
	if len(rows) == 0 && in.Offset == 0 {
		return "The project has no data apps.\n" + links("Data apps", u.DataApps()), nil
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%d data apps.\n", len(rows))
	out.WriteString(csvTable([]string{"configuration_id", "name", "type", "state", "url", "draft_of"}, rows))
	if more {
		fmt.Fprintf(&out, "More data apps exist: call again with offset=%d.\n", in.Offset+limit)
	}
	out.WriteString("get_data_apps with configuration_ids gives details, deployment outcome and logs.\n")
	out.WriteString(links("Data apps", u.DataApps()))
	return out.String(), nil
}

func dataAppDetails(ctx context.Context, c *keboola.Client, u keboola.Links, ids []string) (string, error) {
	return describeEach(ids, "data app(s)", "get_data_apps without configuration_ids lists the data apps.", func(id string) (string, bool, error) {
		a, err := loadApp(ctx, c, id)
		var ue *userError
		if errors.As(err, &ue) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		text, err := describeApp(ctx, c, u, a)
		return text, err == nil, err
	})
}

// describeApp renders one app in full, with its diagnostics.
func describeApp(ctx context.Context, c *keboola.Client, u keboola.Links, a *app) (string, error) {
	id := a.ds.ID.String()
	pythonJS := a.ds.Type == keboola.DataAppTypePythonJS
	// The diagnostics are independent reads: fetch them at once.
	var (
		wg        sync.WaitGroup
		repo      *keboola.DataAppGitRepo
		repoErr   error
		drafts    [][]string
		draftsErr error
		runs      []keboola.DataAppRun
		runsErr   error
		logs      string
		logsErr   error
	)
	if pythonJS {
		wg.Go(func() { repo, repoErr = c.DataAppGitRepository(ctx, id) })
		if !a.body.IsDraft() {
			wg.Go(func() { drafts, draftsErr = draftsOf(ctx, c, a.cfg.ID.String()) })
		}
	}
	wg.Go(func() { runs, runsErr = c.DataAppRuns(ctx, id, 1) })
	if a.ds.State == "running" {
		wg.Go(func() { logs, logsErr = c.DataAppLogs(ctx, id, appLogLines) })
	}
	wg.Wait()
	if draftsErr != nil {
		return "", draftsErr
	}

	var f fields
	f.add("Data app", a.cfg.Name)
	f.add("Description", a.cfg.Description)
	f.add("Configuration", a.cfg.ID.String())
	f.add("App id", id)
	f.add("Type", a.ds.Type)
	f.add("State", a.ds.State)
	f.add("URL", a.ds.URL)
	f.add("Configuration version", fmt.Sprint(a.cfg.Version))
	f.add("Deployed version", a.ds.ConfigVersion.String())
	if a.ds.AutoSuspendAfterSeconds > 0 {
		f.add("Auto-suspend after", fmt.Sprintf("%d s", a.ds.AutoSuspendAfterSeconds))
	}
	f.add("Authentication", a.body.Authentication())
	if pythonJS {
		if a.body.IsDraft() {
			f.add("Draft of", a.body.ParentConfigID())
		}
		f.add("Git branch", a.body.GitBranch())
		switch {
		case repoErr == nil:
			f.add("Repository", repo.HTTPSURL)
			if repo.IsManaged != nil {
				f.add("Managed repository", yesNo(*repo.IsManaged))
			}
		case errors.Is(repoErr, keboola.ErrNotFound):
			f.add("Repository", "none yet")
		default:
			f.add("Repository", "unavailable ("+repoErr.Error()+")")
		}
	}
	f.add("Link", u.DataApp(a.cfg.ID.String()))
	var out strings.Builder
	out.WriteString(f.String())
	if len(drafts) > 0 {
		out.WriteString("Drafts:\n" + csvTable([]string{"configuration_id", "name", "branch"}, drafts))
	}
	// Missing diagnostics (an older service, a stopped app) leave the
	// detail complete otherwise.
	if runsErr == nil && len(runs) > 0 {
		out.WriteString(describeRun(runs[0]))
	}
	if logsErr == nil && strings.TrimSpace(logs) != "" {
		out.WriteString("Recent log lines:\n" + strings.TrimRight(logs, "\n") + "\n")
	}
	if body := redactedJSON(a.cfg.Configuration); body != "" {
		out.WriteString("Configuration JSON:\n" + body + "\n")
	}
	return out.String(), nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// describeRun renders the last deployment attempt; a failure there explains
// apps that never started (bad secrets, failing setup) and left no logs.
func describeRun(r keboola.DataAppRun) string {
	var f fields
	f.add("Last deployment", strings.TrimSpace(r.State+" "+r.Mode))
	f.add("Deployment started", r.CreatedAt)
	f.add("Deployment stopped", r.StoppedAt)
	if r.FailureReason != nil {
		f.add("Failure", r.FailureReason.Reason)
		msg := r.FailureReason.Message
		if n := len([]rune(msg)); n > appFailureMax {
			msg = "…" + string([]rune(msg)[n-appFailureMax+1:])
		}
		f.add("Failure message", msg)
	}
	out := f.String()
	if logs := strings.TrimSpace(r.StartupLogs); logs != "" {
		lines := strings.Split(logs, "\n")
		out += "Startup log (last lines):\n" + strings.Join(lines[max(0, len(lines)-appRunLogLines):], "\n") + "\n"
	}
	return out
}

// draftsOf lists the drafts whose parent is the given production app.
func draftsOf(ctx context.Context, c *keboola.Client, prodConfigID string) ([][]string, error) {
	cfgs, err := c.ListConfigs(ctx, keboola.DataAppComponentID)
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for i := range cfgs {
		a := &app{cfg: &cfgs[i], body: map[string]any{}}
		if json.Unmarshal(cfgs[i].Configuration, &a.body) != nil {
			continue
		}
		if a.body.IsDraft() && a.body.ParentConfigID() == prodConfigID {
			rows = append(rows, []string{cfgs[i].ID.String(), cfgs[i].Name, a.body.GitBranch()})
		}
	}
	return rows, nil
}

type deployDataAppInput struct {
	Action          string `json:"action" jsonschema:"deploy starts or restarts the app; stop suspends it."`
	ConfigurationID string `json:"configuration_id" jsonschema:"Configuration id of the data app."`
	Mode            string `json:"mode,omitempty" jsonschema:"dev runs a python-js draft as a development preview. Leave empty for production apps and Streamlit apps."`
}

func deployDataApp(ctx context.Context, c call, in deployDataAppInput) (string, error) {
	if err := onProduction(ctx, c.client); err != nil {
		return "", err
	}
	a, err := loadApp(ctx, c.client, in.ConfigurationID)
	if err != nil {
		return "", err
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	id := a.ds.ID.String()
	switch in.Action {
	case "deploy":
		if a.ds.State == "stopping" {
			return "", errorf("the app is stopping; deploy it again once get_data_apps shows it stopped")
		}
		if in.Mode == "dev" && !(a.ds.Type == keboola.DataAppTypePythonJS && a.body.IsDraft()) {
			return "", errorf("mode=dev is for python-js drafts only; deploy this app without mode")
		}
		opts := keboola.DeployOptions{Mode: in.Mode}
		if a.ds.Type != keboola.DataAppTypePythonJS {
			// Streamlit code is in the configuration: run its newest version.
			opts.ConfigVersion = fmt.Sprint(a.cfg.Version)
		}
		if _, err := c.client.DeployDataApp(ctx, id, opts); err != nil {
			return "", err
		}
	case "stop":
		if a.ds.State == "starting" || a.ds.State == "restarting" {
			return "", errorf("the app is %s; stop it once get_data_apps shows it running", a.ds.State)
		}
		if _, err := c.client.SuspendDataApp(ctx, id); err != nil {
			return "", err
		}
	default:
		return "", errorf("action must be deploy or stop, got %q", in.Action)
	}
	now, err := c.client.GetDataApp(ctx, id)
	if err != nil {
		return "", err
	}
	var f fields
	f.add("Data app", a.cfg.Name)
	f.add("Configuration", a.cfg.ID.String())
	f.add("State", now.State)
	if in.Action == "deploy" {
		f.add("URL", now.URL)
		f.add("Deployed version", now.ConfigVersion.String())
	}
	out := f.String()
	if in.Action == "deploy" {
		if runs, err := c.client.DataAppRuns(ctx, id, 1); err == nil && len(runs) > 0 {
			out += describeRun(runs[0])
		}
		out += "Starting takes a while; get_data_apps with this configuration id shows the outcome and logs.\n"
	}
	return out + links("Data app", u.DataApp(a.cfg.ID.String())), nil
}

type modifyPythonJSInput struct {
	Name                    string         `json:"name" jsonschema:"Name of the data app (keep it short: the slug derived from it is at most 50 characters). On update, empty keeps the name."`
	Description             string         `json:"description,omitempty" jsonschema:"Description of the data app. On update, empty keeps it."`
	ConfigurationID         string         `json:"configuration_id,omitempty" jsonschema:"Configuration id of the app to update; empty creates a new app."`
	ChangeDescription       string         `json:"change_description,omitempty" jsonschema:"What changed, for the version history (updates)."`
	Slug                    string         `json:"slug,omitempty" jsonschema:"URL prefix of the app: lowercase letters, digits and hyphens, at most 50. Derived from name when empty; cannot change later."`
	ParentConfigurationID   string         `json:"parent_configuration_id,omitempty" jsonschema:"On create: configuration id of the python-js production app this new draft iterates on."`
	Branch                  string         `json:"branch,omitempty" jsonschema:"On draft create: the git branch to pin (default init; not main). On update: repoints a draft or other external-git app to this branch."`
	AuthenticationType      string         `json:"authentication_type,omitempty" jsonschema:"basic-auth protects the app with a password, no-auth makes it public, default keeps an existing app's setting (basic-auth for new apps)."`
	AutoSuspendAfterSeconds int            `json:"auto_suspend_after_seconds,omitempty" jsonschema:"Seconds without traffic after which the running app is suspended."`
	Storage                 map[string]any `json:"storage,omitempty" jsonschema:"Input/output table mappings ({input:{tables:[…]}, output:{tables:[…]}}); replaces the whole storage block. Omit to keep it; {} clears it."`
	pythonFolder
}

func modifyPythonJSDataApp(ctx context.Context, c call, in modifyPythonJSInput) (string, error) {
	if err := onProduction(ctx, c.client); err != nil {
		return "", err
	}
	storage, err := dataapp.CheckStorage(in.Storage)
	if err != nil {
		return "", errorf("%v", err)
	}
	if in.ConfigurationID != "" {
		if in.Slug != "" {
			return "", errorf("slug cannot change after the app is created; leave it empty when updating")
		}
		if in.ParentConfigurationID != "" {
			return "", errorf("parent_configuration_id is only for creating a draft; leave it empty when updating")
		}
		return updatePythonJSApp(ctx, c.client, in, storage)
	}
	if strings.TrimSpace(in.Name) == "" {
		return "", errorf("name is required to create a data app")
	}
	if in.Branch != "" && in.ParentConfigurationID == "" {
		return "", errorf("branch on create pins a draft: give parent_configuration_id too, or leave branch empty for a production app")
	}
	slug := in.Slug
	if slug == "" {
		slug = dataapp.DeriveSlug(in.Name, in.ParentConfigurationID != "")
	} else if !dataapp.ValidSlug(slug) {
		return "", errorf("slug %q must be 1–%d lowercase letters, digits and inner hyphens", slug, dataapp.MaxSlugLen)
	}
	return createPythonJSApp(ctx, c.client, in, slug, storage)
}

// workspaceSetup gives the app access to data: the platform's own per-app
// workspace when the project has the feature, else the id of the workspace
// query_data uses, passed as a secret.
func workspaceSetup(ctx context.Context, c *keboola.Client) (runtime map[string]any, secrets map[string]any, err error) {
	info, err := c.VerifyToken(ctx)
	if err != nil {
		return nil, nil, err
	}
	if info.Owner.HasFeature(storageWorkspaceFeature) {
		return map[string]any{"workspace": map[string]any{"enabled": true}}, nil, nil
	}
	ws, err := c.QueryWorkspace(ctx)
	if err != nil {
		return nil, nil, err
	}
	return nil, map[string]any{dataapp.WorkspaceSecret: ws}, nil
}

func createPythonJSApp(ctx context.Context, c *keboola.Client, in modifyPythonJSInput, slug string, storage map[string]any) (string, error) {
	u, err := c.Links(ctx)
	if err != nil {
		return "", err
	}
	runtime, secrets, err := workspaceSetup(ctx, c)
	if err != nil {
		return "", err
	}
	basic := in.AuthenticationType != "no-auth"
	spec := dataapp.PythonJS{Slug: slug, AutoSuspendAfterSeconds: defaultInt(in.AutoSuspendAfterSeconds, 900),
		Authorization: dataapp.Authorization(basic), Runtime: runtime, Secrets: secrets, Storage: storage}
	var repoURL, cloneURL, branch string
	if in.ParentConfigurationID != "" {
		parent, err := loadApp(ctx, c, in.ParentConfigurationID)
		if err != nil {
			return "", err
		}
		if parent.ds.Type != keboola.DataAppTypePythonJS {
			return "", errorf("configuration %s is a %s app; only python-js production apps can have drafts", in.ParentConfigurationID, parent.ds.Type)
		}
		if parent.body.IsDraft() {
			return "", errorf("configuration %s is itself a draft (of %s); pass the production app's configuration id", in.ParentConfigurationID, parent.body.ParentConfigID())
		}
		branch = strings.TrimSpace(in.Branch)
		if branch == "" {
			branch = dataapp.DefaultDraftBranch
		}
		if !dataapp.ValidBranchName(branch) {
			return "", errorf("branch %q is not a valid git branch name", in.Branch)
		}
		if branch == "main" {
			return "", errorf("branch main belongs to the production app; pick another branch for the draft")
		}
		repo, err := c.DataAppGitRepository(ctx, parent.ds.ID.String())
		if err != nil {
			return "", fmt.Errorf("reading the repository of the production app: %w", err)
		}
		if repo.HTTPSURL == "" {
			return "", fmt.Errorf("the production app %s reports no HTTPS repository URL", parent.ds.ID)
		}
		cred, err := c.CreateDataAppGitCredential(ctx, parent.ds.ID.String())
		if err != nil {
			return "", fmt.Errorf("minting git access on the production app: %w", err)
		}
		if cred.Secret.IsZero() {
			return "", fmt.Errorf("the production app %s returned a git credential without a token", parent.ds.ID)
		}
		repoURL = repo.HTTPSURL
		if cloneURL, err = dataapp.CloneURL(repoURL, cred.Secret); err != nil {
			return "", err
		}
		spec.Draft = &dataapp.Draft{ParentConfigID: in.ParentConfigurationID, Repository: repoURL, Branch: branch, Token: cred.Secret}
	}
	raw, err := json.Marshal(dataapp.NewPythonJS(spec))
	if err != nil {
		return "", err
	}
	// The draft's git token is a secret: it is stored encrypted only.
	if raw, err = c.EncryptSecrets(ctx, keboola.DataAppComponentID, "", raw); err != nil {
		return "", err
	}
	ds, err := c.CreateDataApp(ctx, keboola.NewDataApp{Name: in.Name, Description: in.Description, Type: keboola.DataAppTypePythonJS,
		Config: raw, ManagedGitRepo: in.ParentConfigurationID == ""})
	if err != nil {
		return "", err
	}
	// The app exists from here on: later failures must not read as "not
	// created", or a retry would create a second app.
	note := markWrittenByMCP(ctx, c, keboola.DataAppComponentID, ds.ConfigID.String(), 0) +
		in.applyToNew(ctx, c, keboola.DataAppComponentID, ds.ConfigID.String())
	var f fields
	f.add("Created", "python-js data app "+in.Name)
	f.add("Configuration", ds.ConfigID.String())
	f.add("App id", ds.ID.String())
	f.add("Slug", slug)
	f.add("Authentication", map[bool]string{true: "basic (password)", false: "none (public)"}[basic])
	if in.ParentConfigurationID != "" {
		f.add("Draft of", in.ParentConfigurationID)
		f.add("Repository", repoURL)
		f.add("Branch", branch)
		f.add("Clone URL (contains a push token; shown once)", cloneURL)
	} else if repo, err := c.DataAppGitRepository(ctx, ds.ID.String()); err == nil {
		f.add("Repository", repo.HTTPSURL)
	} else {
		f.add("Repository", "not available yet; get_data_apps with this configuration id shows it later")
	}
	next := "Next: create_python_js_data_app_git_credential for push access, push the code to main, then deploy_data_app. " +
		"Changes after the first version go through a draft.\n"
	if in.ParentConfigurationID != "" {
		next = fmt.Sprintf("Next: git clone the URL above, check out %s (create it from main if needed), push your change, "+
			"then deploy_data_app(action=deploy, configuration_id=%s, mode=dev) to preview.\n", branch, ds.ConfigID)
	}
	return f.String() + note + next + links("Data app", u.DataApp(ds.ConfigID.String())), nil
}

func updatePythonJSApp(ctx context.Context, c *keboola.Client, in modifyPythonJSInput, storage map[string]any) (string, error) {
	a, err := loadApp(ctx, c, in.ConfigurationID)
	if err != nil {
		return "", err
	}
	if a.ds.Type != keboola.DataAppTypePythonJS {
		return "", errorf("configuration %s is a %s app; modify_python_js_data_app changes python-js apps only", in.ConfigurationID, a.ds.Type)
	}
	body := a.body
	params, _ := body["parameters"].(map[string]any)
	if params == nil {
		params = map[string]any{}
		body["parameters"] = params
	}
	if in.AutoSuspendAfterSeconds > 0 {
		params["autoSuspendAfterSeconds"] = in.AutoSuspendAfterSeconds
	}
	switch in.AuthenticationType {
	case "basic-auth", "no-auth":
		body["authorization"] = dataapp.Authorization(in.AuthenticationType == "basic-auth")
	}
	var notes []string
	if b := strings.TrimSpace(in.Branch); b != "" {
		if !dataapp.ValidBranchName(b) {
			return "", errorf("branch %q is not a valid git branch name", in.Branch)
		}
		repo, err := c.DataAppGitRepository(ctx, a.ds.ID.String())
		if err != nil || repo.IsManaged == nil {
			return "", errorf("cannot tell whether configuration %s uses an external git repository, so its branch stays as it is; retry later", in.ConfigurationID)
		}
		if *repo.IsManaged {
			return "", errorf("configuration %s runs on a Keboola-managed repository whose branch the platform owns; only drafts and other external-git apps can be repointed", in.ConfigurationID)
		}
		if !a.body.SetGitBranch(b) {
			return "", errorf("configuration %s has no parameters.dataApp.git block to repoint", in.ConfigurationID)
		}
		notes = append(notes, fmt.Sprintf("Branch set to %s: redeploy to serve it.", b))
	}
	if err := addWorkspaceSecret(ctx, c, a); err != nil {
		return "", err
	}
	body.SetStorage(storage)
	return saveDataAppUpdate(ctx, c, a, body, appUpdate{configID: in.ConfigurationID, name: in.Name, description: in.Description,
		change: firstNonBlank(in.ChangeDescription, "Update python-js data app"), folder: in.pythonFolder}, notes)
}

// appUpdate is what both data app tools change besides the body.
type appUpdate struct {
	configID, name, description, change string
	folder                              pythonFolder
}

// saveDataAppUpdate stores an edited data app configuration and reports it
// the same way for both kinds of app: new version, state, authentication,
// notes, and a reminder to redeploy a running app.
func saveDataAppUpdate(ctx context.Context, c *keboola.Client, a *app, body map[string]any, in appUpdate, notes []string) (string, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	// Stored secrets come back encrypted and stay so; encrypting again
	// covers any plain value under a # key.
	if raw, err = c.EncryptSecrets(ctx, keboola.DataAppComponentID, in.configID, raw); err != nil {
		return "", err
	}
	upd := keboola.ConfigUpdate{Configuration: raw, ChangeDescription: in.change}
	if n := strings.TrimSpace(in.name); n != "" {
		upd.Name = &n
	}
	if in.description != "" {
		upd.Description = &in.description
	}
	cfg, err := c.UpdateConfig(ctx, keboola.DataAppComponentID, in.configID, upd)
	if err != nil {
		return "", err
	}
	notes = append(notes, strings.TrimSpace(markWrittenByMCP(ctx, c, keboola.DataAppComponentID, in.configID, cfg.Version)),
		strings.TrimSpace(in.folder.apply(ctx, c, keboola.DataAppComponentID, in.configID)))
	u, err := c.Links(ctx)
	if err != nil {
		return "", err
	}
	var f fields
	f.add("Updated", cfg.Name)
	f.add("Configuration", in.configID)
	f.add("Version", fmt.Sprint(cfg.Version))
	f.add("State", a.ds.State)
	f.add("Authentication", dataapp.Body(body).Authentication())
	out := f.String()
	if a.ds.State == "running" || a.ds.State == "starting" {
		notes = append(notes, "The running app still serves the previous version: redeploy with deploy_data_app(action=deploy).")
	}
	if notes = slices.DeleteFunc(notes, func(n string) bool { return n == "" }); len(notes) > 0 {
		out += strings.Join(notes, "\n") + "\n"
	}
	return out + links("Data app", u.DataApp(in.configID)), nil
}

// addWorkspaceSecret gives an existing app that has neither the platform
// workspace nor a WORKSPACE_ID secret the secret, keeping other secrets.
func addWorkspaceSecret(ctx context.Context, c *keboola.Client, a *app) error {
	if !a.body.NeedsWorkspaceSecret() {
		return nil
	}
	runtime, add, err := workspaceSetup(ctx, c)
	if err != nil || runtime != nil {
		return err
	}
	a.body.SetSecret(dataapp.WorkspaceSecret, add[dataapp.WorkspaceSecret])
	return nil
}

type configIDInput struct {
	ConfigurationID string `json:"configuration_id" jsonschema:"Configuration id of the python-js data app."`
}

// loadPythonJSApp loads the app of a tool that works on python-js apps
// only (their git repository and drafts), on the production branch.
func loadPythonJSApp(ctx context.Context, c *keboola.Client, configID, only string) (*app, error) {
	if err := onProduction(ctx, c); err != nil {
		return nil, err
	}
	a, err := loadApp(ctx, c, configID)
	if err != nil {
		return nil, err
	}
	if a.ds.Type != keboola.DataAppTypePythonJS {
		return nil, errorf("configuration %s is a %s app; %s", configID, a.ds.Type, only)
	}
	return a, nil
}

func createDataAppGitCredential(ctx context.Context, c call, in configIDInput) (string, error) {
	a, err := loadPythonJSApp(ctx, c.client, in.ConfigurationID, "only python-js apps have a git repository")
	if err != nil {
		return "", err
	}
	if a.body.IsDraft() {
		return "", errorf("configuration %s is a draft and has no repository of its own; call this with its production app %s", in.ConfigurationID, a.body.ParentConfigID())
	}
	repo, err := c.client.DataAppGitRepository(ctx, a.ds.ID.String())
	if err != nil {
		return "", err
	}
	if repo.HTTPSURL == "" {
		return "", fmt.Errorf("data app %s reports no HTTPS repository URL", a.ds.ID)
	}
	cred, err := c.client.CreateDataAppGitCredential(ctx, a.ds.ID.String())
	if err != nil {
		return "", err
	}
	if cred.Secret.IsZero() {
		return "", fmt.Errorf("data app %s returned a git credential without a token", a.ds.ID)
	}
	clone, err := dataapp.CloneURL(repo.HTTPSURL, cred.Secret)
	if err != nil {
		return "", err
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	var f fields
	f.add("Data app", a.cfg.Name)
	f.add("Configuration", in.ConfigurationID)
	f.add("Credential", cred.ID.String())
	f.add("Permissions", cred.Permissions)
	f.add("Repository", repo.HTTPSURL)
	f.add("Clone URL", clone)
	f.add("Token", cred.Secret.Reveal())
	return f.String() + "Keboola shows this token only now: keep the clone URL for the rest of the session.\n" +
		links("Data app", u.DataApp(in.ConfigurationID)), nil
}

func deletePythonJSDraft(ctx context.Context, c call, in configIDInput) (string, error) {
	a, err := loadPythonJSApp(ctx, c.client, in.ConfigurationID, "only python-js drafts can be deleted with this tool")
	if err != nil {
		return "", err
	}
	if !a.body.IsDraft() {
		return "", errorf("configuration %s is a production app, not a draft; delete production apps in the Keboola UI", in.ConfigurationID)
	}
	// The Data Science API trashes the configuration itself; deleting it
	// through Storage as well would purge it from the trash for good.
	if err := c.client.DeleteDataApp(ctx, a.ds.ID.String()); err != nil {
		return "", err
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	var f fields
	f.add("Deleted draft", a.cfg.Name)
	f.add("Configuration", in.ConfigurationID)
	f.add("Production app", a.body.ParentConfigID())
	out := f.String() + "Delete its branch from the repository yourself if you have not yet.\n"
	if p := a.body.ParentConfigID(); p != "" {
		return out + links("Production app", u.DataApp(p)), nil
	}
	return out + links("Data apps", u.DataApps()), nil
}
