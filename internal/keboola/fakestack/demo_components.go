package fakestack

import (
	"time"
)

// demoCatalogue is the stack's component catalogue: the components the demo
// project uses plus a few it could use (for search and suggestions).
func seedCatalogue(st *state) {
	obj := func(props map[string]any, required ...string) map[string]any {
		return map[string]any{"type": "object", "required": nonNil(required), "properties": props}
	}
	str := func(title string) map[string]any { return map[string]any{"type": "string", "title": title} }
	comps := []*component{
		{id: "keboola.ex-db-mysql", typ: "extractor", name: "MySQL", categories: []string{"Database"},
			description:      "Extracts tables or SQL query results from a MySQL database.",
			longDescription:  "Connects to MySQL over an optional SSH tunnel and loads whole tables, selected columns or custom queries into Storage, fully or incrementally.",
			documentationURL: "https://help.keboola.com/components/extractors/database/mysql/",
			documentation:    "The MySQL extractor loads data from a MySQL or MariaDB server. The configuration holds the connection (host, port, database, user, #password); each row extracts one table or query into a Storage table (outputTable), optionally incrementally using a primary key.",
			configSchema: obj(map[string]any{"db": obj(map[string]any{"host": str("Hostname"), "port": map[string]any{"type": "integer", "title": "Port"},
				"database": str("Database"), "user": str("User"), "#password": str("Password")}, "host", "database", "user", "#password")}, "db"),
			rowSchema: obj(map[string]any{"table": obj(map[string]any{"schema": str("Schema"), "tableName": str("Table")}),
				"query": str("Custom SQL query"), "outputTable": str("Output table"), "incremental": map[string]any{"type": "boolean"},
				"primaryKey": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}, "outputTable"),
			rootExamples: []any{map[string]any{"parameters": map[string]any{"db": map[string]any{"host": "mysql.example.com", "port": 3306, "database": "shop", "user": "keboola", "#password": "secret"}}}},
			rowExamples:  []any{map[string]any{"parameters": map[string]any{"table": map[string]any{"schema": "shop", "tableName": "orders"}, "outputTable": "in.c-shop.orders", "incremental": true, "primaryKey": []any{"id"}}}},
		},
		{id: "keboola.ex-http", typ: "extractor", name: "HTTP", categories: []string{"Other"},
			description:      "Downloads CSV files from HTTP(S) URLs into Storage.",
			documentationURL: "https://help.keboola.com/components/extractors/other/http/",
			documentation:    "The HTTP extractor downloads CSV files from public or authenticated HTTP(S) URLs. Each configuration row names a path below the base URL and the Storage table to load it into.",
			configSchema:     obj(map[string]any{"baseUrl": str("Base URL")}, "baseUrl"),
			rowSchema:        obj(map[string]any{"path": str("Path"), "saveAs": str("Table name")}, "path"),
		},
		{id: "keboola.ex-aws-s3", typ: "extractor", name: "AWS S3", categories: []string{"Files"},
			description:      "Loads CSV files from an Amazon S3 bucket.",
			documentationURL: "https://help.keboola.com/components/extractors/storage/aws-s3/",
			documentation:    "The AWS S3 extractor loads CSV files from an S3 bucket using an access key. Rows select a key or wildcard and the destination table.",
			configSchema:     obj(map[string]any{"accessKeyId": str("Access key id"), "#secretAccessKey": str("Secret access key")}, "accessKeyId", "#secretAccessKey"),
		},
		{id: "keboola.ex-google-analytics-v4", typ: "extractor", name: "Google Analytics", flags: oauthFlags, categories: []string{"Marketing"},
			description: "Extracts reports from Google Analytics 4 properties.", documentationURL: "https://help.keboola.com/components/extractors/marketing-sales/google-analytics/"},
		{id: "keboola.ex-salesforce-v2", typ: "extractor", name: "Salesforce", flags: oauthFlags, categories: []string{"CRM"},
			description: "Extracts objects from Salesforce with SOQL.", documentationURL: "https://help.keboola.com/components/extractors/marketing-sales/salesforce/"},
		{id: "keboola.snowflake-transformation", typ: "transformation", name: "Snowflake SQL", categories: []string{"Transformation"},
			description:      "Transforms Storage tables with Snowflake SQL.",
			longDescription:  "Input tables are copied into a Snowflake workspace, the SQL blocks run in order, and the output tables are loaded back to Storage.",
			documentationURL: "https://help.keboola.com/transformations/snowflake-plain/",
			documentation:    "Snowflake SQL transformations run SQL scripts organised in blocks and codes. Input mapping copies Storage tables into the workspace under a destination name; output mapping loads the tables the scripts create back into Storage. Quote identifiers with double quotes; names are case sensitive.",
			configSchema:     obj(map[string]any{"blocks": map[string]any{"type": "array"}}, "blocks"),
		},
		{id: "keboola.google-bigquery-transformation", typ: "transformation", name: "Google BigQuery", categories: []string{"Transformation"},
			description:      "Transforms Storage tables with BigQuery SQL (GoogleSQL).",
			longDescription:  "Input tables are copied into a BigQuery workspace dataset, the SQL blocks run in order, and the output tables are loaded back to Storage.",
			documentationURL: "https://help.keboola.com/transformations/bigquery/",
			documentation:    "BigQuery SQL transformations run GoogleSQL scripts organised in blocks and codes, on projects with the BigQuery backend. Input mapping copies Storage tables into the workspace dataset under a destination name, which the scripts use without a dataset; output mapping loads the tables the scripts create back into Storage. Quote identifiers with backticks; table names are case sensitive.",
			configSchema:     obj(map[string]any{"blocks": map[string]any{"type": "array"}}, "blocks"),
		},
		{id: "keboola.python-transformation-v2", typ: "transformation", name: "Python", categories: []string{"Transformation"},
			description: "Transforms data with a Python script.", documentationURL: "https://help.keboola.com/transformations/python-plain/"},
		{id: "keboola.wr-google-sheets", typ: "writer", name: "Google Sheets", flags: oauthFlags, categories: []string{"Spreadsheets"},
			description:      "Writes Storage tables into Google Sheets.",
			documentationURL: "https://help.keboola.com/components/writers/other/google-sheets/",
			documentation:    "The Google Sheets writer uploads tables into sheets of a Google spreadsheet, replacing or appending rows. It authorises with Google OAuth; an expired authorisation makes jobs fail until it is renewed.",
			configSchema:     obj(map[string]any{"tables": map[string]any{"type": "array"}}),
			rowSchema:        obj(map[string]any{"fileId": str("Spreadsheet id"), "sheetTitle": str("Sheet"), "action": map[string]any{"type": "string", "enum": []any{"update", "append"}}}, "fileId", "sheetTitle"),
		},
		{id: "keboola.wr-db-snowflake", typ: "writer", name: "Snowflake", categories: []string{"Database"},
			description: "Writes Storage tables into a Snowflake database.", documentationURL: "https://help.keboola.com/components/writers/database/snowflake/"},
		{id: "keboola.orchestrator", typ: "other", name: "Orchestrator", categories: []string{"Other"},
			description:      "Runs flows: phases of tasks that run components in order.",
			documentationURL: "https://help.keboola.com/flows/",
			documentation:    "A flow groups tasks into phases. Phases run in order (dependsOn); tasks in one phase run in parallel. Each task runs one configuration of a component; continueOnFailure lets the flow go on after a failed task.",
			configSchema:     obj(map[string]any{"phases": map[string]any{"type": "array"}, "tasks": map[string]any{"type": "array"}}, "phases", "tasks"),
		},
		{id: "keboola.flow", typ: "other", name: "Flow", categories: []string{"Other"},
			description:      "Runs conditional flows: phases with transitions chosen by conditions on earlier results.",
			documentationURL: "https://help.keboola.com/flows/conditional-flows/",
			configSchema:     obj(map[string]any{"phases": map[string]any{"type": "array"}, "tasks": map[string]any{"type": "array"}}, "phases", "tasks"),
		},
		{id: schedulerComponent, typ: "other", name: "Scheduler", categories: []string{"Other"},
			description: "Runs a configuration (usually a flow) on a cron schedule."},
		// Variables are defined in configurations of this component, which
		// other configurations link by variables_id
		// (https://developers.keboola.com/integrate/variables/).
		{id: variablesComponent, typ: "other", name: "Variables", categories: []string{"Other"},
			description:      "Defines variables that other configurations use as {{ name }} placeholders.",
			documentationURL: "https://developers.keboola.com/integrate/variables/"},
		{id: mcpToolComponent, typ: "application", name: "Keboola MCP Server", categories: []string{"Application"},
			description: "Holds the workspaces the Keboola MCP server runs SQL in."},
	}
	for _, c := range comps {
		st.catalogue = append(st.catalogue, c)
		st.components[c.id] = c
	}
}

// Demo configuration ids, referenced by the flow and the job history.
const (
	demoMySQLConfig     = "7410001"
	demoHTTPConfig      = "7410002"
	demoS3Config        = "7410003"
	demoTransformConfig = "7410010"
	demoSheetsConfig    = "7410020"
	demoBrokenConfig    = "7410021"
	demoFlowConfig      = "7410030"
	demoMCPConfig       = "7410040"
	demoScheduleConfig  = "7410050"
)

// DemoFailingConfig names the demo configuration whose runs always end in
// error (an expired Google authorisation), for tests of failed jobs.
const DemoFailingConfig = "keboola.wr-google-sheets/" + demoBrokenConfig

const demoFailMessage = "Google Sheets authorization has expired or was revoked. Reauthorize the configuration and run it again."

func seedConfigs(st *state, master *token) {
	row := func(id, name string, conf map[string]any) *configRow {
		return &configRow{id: id, name: name, version: 1, created: demoEpoch, changeDescription: "Row created", configuration: conf, state: map[string]any{}}
	}
	add := func(comp, id, name, desc string, conf map[string]any, rows ...*configRow) *config {
		c := st.addConfig(comp, id, name, desc, conf, master)
		c.created = demoEpoch
		c.versions[0].created = demoEpoch
		if len(rows) > 0 {
			c.rows = rows
			c.bump(demoEpoch.Add(time.Hour), master, "Rows added")
		}
		return c
	}
	add("keboola.ex-db-mysql", demoMySQLConfig, "CRM production database", "Nightly copy of the CRM customers and orders.",
		map[string]any{"parameters": map[string]any{"db": map[string]any{"host": "crm-db.internal.example.com", "port": 3306,
			"database": "crm", "user": "keboola_reader", "#password": "KBC::ProjectSecure::eJwLdnEJ8/ENcQ0yMjZ2cXcNNQj18Q9wBAA9rQYL"}}},
		row("7410001001", "customers", map[string]any{"parameters": map[string]any{"table": map[string]any{"schema": "crm", "tableName": "customers"},
			"outputTable": "in.c-crm.customers", "incremental": false, "primaryKey": []any{"customer_id"}}}),
		row("7410001002", "orders", map[string]any{"parameters": map[string]any{"table": map[string]any{"schema": "crm", "tableName": "orders"},
			"outputTable": "in.c-crm.orders", "incremental": true, "primaryKey": []any{"order_id"}}}),
	)
	add("keboola.ex-http", demoHTTPConfig, "Web analytics export", "Daily CSV exports of sessions and campaigns.",
		map[string]any{"parameters": map[string]any{"baseUrl": "https://analytics.example.com/exports/"}},
		row("7410002001", "sessions", map[string]any{"parameters": map[string]any{"path": "sessions.csv", "saveAs": "sessions"}}),
		row("7410002002", "campaigns", map[string]any{"parameters": map[string]any{"path": "campaigns.csv", "saveAs": "campaigns"}}),
	)
	add("keboola.ex-aws-s3", demoS3Config, "ERP nightly dump", "Products and inventory exported by the ERP to S3.",
		map[string]any{"parameters": map[string]any{"accessKeyId": "AKIAFAKESTACKDEMO", "#secretAccessKey": "KBC::ProjectSecure::eJwLdnEJ8/ENcQ0yMjZ2cXcNNQj18Q9wBAAZZZ"}},
		row("7410003001", "products", map[string]any{"parameters": map[string]any{"bucket": "erp-exports", "key": "products/*.csv", "name": "products"}}),
		row("7410003002", "inventory", map[string]any{"parameters": map[string]any{"bucket": "erp-exports", "key": "inventory/*.csv", "name": "inventory"}}),
	)
	code := st.s.demoTransformationSQL()
	tr := add(st.s.sqlTransformation(), demoTransformConfig, "Revenue reports", "Builds daily revenue and customer lifetime value from CRM orders.",
		map[string]any{
			"parameters": map[string]any{"blocks": []any{map[string]any{"name": "Reports", "codes": []any{
				map[string]any{"name": "Daily revenue", "script": []any{code[0]}},
				map[string]any{"name": "Customer lifetime value", "script": []any{code[1]}},
			}}}},
			"storage": map[string]any{
				"input": map[string]any{"tables": []any{
					map[string]any{"source": "in.c-crm.orders", "destination": "orders"},
					map[string]any{"source": "in.c-crm.customers", "destination": "customers"},
				}},
				"output": map[string]any{"tables": []any{
					map[string]any{"source": "daily_revenue", "destination": "out.c-reports.daily_revenue", "primary_key": []any{"date"}},
					map[string]any{"source": "customer_ltv", "destination": "out.c-reports.customer_ltv", "primary_key": []any{"customer_id"}},
				}},
			},
		})
	tr.metadata = []*metadata{{id: "9001", key: "KBC.configuration.folderName", value: "Reporting", provider: "user", timestamp: demoEpoch}}
	add("keboola.wr-google-sheets", demoSheetsConfig, "Revenue dashboard sheet", "Shares the revenue reports with the finance team.",
		map[string]any{"authorization": map[string]any{"oauth_api": map[string]any{"id": "7410020"}}},
		row("7410020001", "Daily revenue", map[string]any{"parameters": map[string]any{"fileId": "1AbCfakeSheetId", "sheetTitle": "daily_revenue", "action": "update", "tableId": "out.c-reports.daily_revenue"}}),
		row("7410020002", "Customer LTV", map[string]any{"parameters": map[string]any{"fileId": "1AbCfakeSheetId", "sheetTitle": "customer_ltv", "action": "update", "tableId": "out.c-reports.customer_ltv"}}),
	)
	broken := add("keboola.wr-google-sheets", demoBrokenConfig, "Finance forecast sheet", "Forecast inputs for finance; its Google authorisation has expired.",
		map[string]any{"authorization": map[string]any{"oauth_api": map[string]any{"id": "7410021"}}},
		row("7410021001", "Forecast", map[string]any{"parameters": map[string]any{"fileId": "1XyZfakeForecastId", "sheetTitle": "forecast", "action": "append", "tableId": "out.c-reports.daily_revenue"}}),
	)
	broken.failMessage = demoFailMessage
	task := func(id int, name, phase, comp, cfg string) map[string]any {
		return map[string]any{"id": id, "name": name, "phase": phase, "enabled": true, "continueOnFailure": false,
			"task": map[string]any{"componentId": comp, "configId": cfg, "mode": "run"}}
	}
	add("keboola.orchestrator", demoFlowConfig, "Daily revenue pipeline", "Extracts CRM, ERP and web data, builds the revenue reports and publishes them.",
		map[string]any{
			"phases": []any{
				map[string]any{"id": "1", "name": "Extract", "dependsOn": []any{}},
				map[string]any{"id": "2", "name": "Transform", "dependsOn": []any{"1"}},
				map[string]any{"id": "3", "name": "Publish", "dependsOn": []any{"2"}},
			},
			"tasks": []any{
				task(11, "CRM", "1", "keboola.ex-db-mysql", demoMySQLConfig),
				task(12, "ERP", "1", "keboola.ex-aws-s3", demoS3Config),
				task(13, "Web", "1", "keboola.ex-http", demoHTTPConfig),
				task(21, "Revenue reports", "2", st.s.sqlTransformation(), demoTransformConfig),
				task(31, "Revenue dashboard", "3", "keboola.wr-google-sheets", demoSheetsConfig),
			},
		})
	add(schedulerComponent, demoScheduleConfig, "Nightly at 02:00", "Runs the daily revenue pipeline every night.",
		map[string]any{
			"schedule": map[string]any{"cronTab": "0 2 * * *", "timezone": "Europe/Prague", "state": "enabled"},
			"target":   map[string]any{"componentId": "keboola.orchestrator", "configurationId": demoFlowConfig, "mode": "run"},
		})
	st.schedules[demoScheduleConfig] = &schedule{id: "9100", configID: demoScheduleConfig, creator: master, version: 1}
	mcp := add(mcpToolComponent, demoMCPConfig, "MCP server workspace", "Read-only workspace for SQL from the Keboola MCP server.", map[string]any{})
	loginType := "snowflake-person-keypair"
	if st.s.opts.Backend == "bigquery" {
		loginType = "default" // the only login type BigQuery workspaces have
	}
	ws := st.addWorkspace(mcpToolComponent, mcp.id, true, loginType, master)
	ws.created = demoEpoch
}

// seedJobHistory adds a week of finished runs, including one failure, with
// their events.
func seedJobHistory(s *Stack, master *token) {
	now := s.now()
	type run struct {
		comp, cfg string
		ago       time.Duration
		dur       time.Duration
		fail      string
	}
	var runs []run
	for day := 6; day >= 1; day-- {
		at := time.Duration(day) * 24 * time.Hour
		runs = append(runs,
			run{"keboola.orchestrator", demoFlowConfig, at, 9 * time.Minute, ""},
			run{"keboola.ex-db-mysql", demoMySQLConfig, at - time.Minute, 2*time.Minute + 13*time.Second, ""},
			run{"keboola.ex-aws-s3", demoS3Config, at - time.Minute, 48 * time.Second, ""},
			run{"keboola.ex-http", demoHTTPConfig, at - time.Minute, time.Minute + 5*time.Second, ""},
			run{s.sqlTransformation(), demoTransformConfig, at - 4*time.Minute, 2*time.Minute + 40*time.Second, ""},
			run{"keboola.wr-google-sheets", demoSheetsConfig, at - 7*time.Minute, 51 * time.Second, ""},
		)
	}
	runs = append(runs, run{"keboola.wr-google-sheets", demoBrokenConfig, 3 * time.Hour, 37 * time.Second, demoFailMessage})
	// The component runs of a day are the tasks of that day's flow run, so
	// their run ids are "<flow run id>.<job id>" as on a real stack.
	var flowRun string
	for _, r := range runs {
		j := &queueJob{component: r.comp, configID: r.cfg, mode: "run", created: now.Add(-r.ago),
			runFor: r.dur, creator: master, failMessage: r.fail}
		if r.comp != "keboola.orchestrator" && r.fail == "" {
			j.parentRunID = flowRun
		}
		s.state.addQueueJob(j)
		if r.comp == "keboola.orchestrator" {
			flowRun = j.runID()
		}
	}
}

// oauthFlags marks a component that signs in with OAuth: the Developer
// Portal's UI option genericDockerUI-authorization shows the "Authorize"
// button in the Keboola UI, and only such components can use the OAuth broker.
var oauthFlags = []string{"genericDockerUI", "genericDockerUI-authorization"}
