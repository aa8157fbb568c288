package mcpserver

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// prompt is one of the ready-made requests a user can pick in their client
// (prompts/list, prompts/get). They are the Python Keboola MCP server's six
// one-click prompts, under its names, written for these tools: each says
// which tools answer which part, so the model gathers facts before it
// writes.
type prompt struct {
	name, title, description, text string
}

var prompts = []prompt{
	{
		name:        "analyze_project_structure",
		title:       "Analyze the project's structure",
		description: "A high-level picture of the project: where its data comes from, how it is transformed and stored, and what it is used for.",
		text: `Explain what this Keboola project does, for someone who has never seen it.

First gather facts: get_project_info; get_buckets and get_tables for the storage layout; get_configs for extractors, writers and applications; get_configs on the transformations; get_flows for orchestration; get_data_apps. Use real names and ids from the answers throughout.

Then write:

## Summary
A few bullets on what the project is for and the main activities in it.

## Sources and integrations
Each extractor and external system, with its configuration name, what it loads and how often (from flows and schedules).

## Transformations
The main transformation chains: what goes in, what logic they apply (joins, cleaning, aggregation), what comes out.

## Storage
How buckets are organised (stages, naming), the key tables and what they hold.

## Outputs and use cases
Writers, data apps and other consumers, and the business questions the project answers, with concrete examples.`,
	},
	{
		name:        "project_health_check",
		title:       "Project health check",
		description: "Find failing jobs, stale data, unused or risky configurations, and what to fix first.",
		text: `Check the health of this Keboola project and tell me what needs attention.

Gather facts first: get_jobs (recent jobs, then job_ids of failures for their details and logs), get_flows and their schedules, get_configs, get_buckets and get_tables (row counts, last import, sizes), search where useful.

Report on:
1. Reliability: jobs and flows that fail or warn, how often, and the errors behind them.
2. Freshness: tables not updated for longer than their flows' schedules suggest; empty tables.
3. Configuration hygiene: disabled, unused or duplicated configurations, flows without schedules, components with outdated settings.
4. Performance and cost: the slowest and largest jobs and tables, and where work could be trimmed.
5. Access and safety: secrets that appear in plain parameters, configurations writing outside their usual buckets.
6. Recommendations: a prioritised list, quick wins first, each naming the configuration, flow or table concerned.`,
	},
	{
		name:        "data_quality_assessment",
		title:       "Data quality assessment",
		description: "Measure completeness, consistency, accuracy and freshness of the project's tables with SQL, and rate each table.",
		text: `Assess the quality of the data in this Keboola project.

List the tables (get_buckets, get_tables), read their columns and types, and measure with query_data (one read-only SELECT at a time, in the project's SQL dialect, with fully qualified names; aggregate in SQL, never fetch whole tables):
1. Completeness: share of NULL or empty values in key columns; tables with gaps.
2. Consistency: duplicate keys, values in unexpected formats, broken references between related tables.
3. Accuracy: outliers and impossible values (negative amounts, future dates).
4. Freshness: last import time against how often the data should change.
5. Profile: row counts, distinct counts of key columns, value ranges.

Finish with a score or grade per table, the issues ordered by impact, and concrete fixes (a transformation step, a check, a source setting), naming tables and columns.`,
	},
	{
		name:        "component_usage_summary",
		title:       "Component usage summary",
		description: "An inventory of the project's components and configurations, how often they run, how reliably, and how they connect.",
		text: `Summarise the components this Keboola project uses and how they are used.

Gather: get_configs (every component and its configurations), get_components for details of the main ones, get_jobs per component or configuration for run frequency and outcomes, get_flows to see which configurations run together, a config-based search (search, with the table id as pattern) to find which configurations read or write a table.

Write:
1. Inventory: components by type (extractors, transformations, writers, applications, data apps) with their configuration counts; disabled ones marked.
2. Activity: how often each configuration runs, success and failure rates, typical durations.
3. Data flow: which configurations produce the tables others consume, as a simple lineage from sources to outputs.
4. Observations: unused, duplicated or failing configurations, and components that could be consolidated or updated.
Name every configuration with its id.`,
	},
	{
		name:        "error_analysis_report",
		title:       "Error analysis report",
		description: "Collect the project's recent job failures, find their causes, and say how to fix each.",
		text: `Analyse the recent errors in this Keboola project and tell me how to fix them.

Use get_jobs with status=error (and warning) to list recent failures, then get_jobs with their job_ids for the details and log events. Open the failing configurations with get_configs (or get_flows for flows) to see what they were asked to do.

Report:
1. Overview: how many jobs failed, over what period, in which components and flows.
2. Groups: failures with the same cause grouped together (credentials, missing tables or columns, SQL errors, timeouts, quota, upstream API errors), each with an example job id and the key log line.
3. Causes: for each group, the most likely cause from the configuration and the error.
4. Fixes: concrete steps for each group, naming the configuration and the setting or SQL to change; what to check after the next run.
5. Prevention: monitoring, retries or flow conditions that would catch these earlier.`,
	},
	{
		name:        "create_project_documentation",
		title:       "Write project documentation",
		description: "Documentation of the project for its team: architecture, data sources, transformations, flows, outputs and operations.",
		text: `Write documentation of this Keboola project for the people who will maintain it.

Read the project first: get_project_info, get_buckets, get_tables (with details of the important tables), get_configs, get_flows, get_data_apps, and get_jobs for how things run in practice. Use real names, ids and links from the answers.

Structure:
# <project name>
## Purpose: what the project delivers and for whom.
## Architecture: sources → storage → transformations → outputs, as a short overview and a list.
## Data sources: each extractor configuration, what it loads, its schedule.
## Storage: buckets and key tables, what each holds, its grain and key columns.
## Transformations: each transformation, its inputs, logic and outputs.
## Flows and schedules: what runs when, in which order, and what happens on failure.
## Outputs: writers, data apps and their consumers.
## Operations: how to rerun, where to look when something fails, known caveats.

Where descriptions are missing in the project, say so; offer to save the ones you write with update_descriptions and update_project_description.`,
	},
}

// addPrompts registers the prompts on a server.
func addPrompts(srv *mcp.Server) {
	for _, p := range prompts {
		srv.AddPrompt(&mcp.Prompt{Name: p.name, Title: p.title, Description: p.description},
			func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
				// A fresh result each time: the SDK annotates results in place.
				return &mcp.GetPromptResult{
					Description: p.description,
					Messages:    []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: p.text}}},
				}, nil
			})
	}
}
