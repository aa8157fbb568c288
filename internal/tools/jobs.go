package tools

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

var jobStatuses = []string{"created", "waiting", "processing", "success", "error", "warning", "terminating", "cancelled", "terminated"}

var jobTools = []Tool{
	define("get_jobs", "List or get jobs",
		"Without job_ids: lists jobs (id, component, configuration, status, times, duration), newest first, "+
			"filtered by status, component_id and config_id, paged with limit/offset. With job_ids: details of "+
			"each job, including its result message and the last lines of its log; use it to see why a job failed.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) {
			enum(s, "status", jobStatuses...)
			enum(s, "sort_by", "startTime", "endTime", "createdTime", "durationSeconds", "id")
			enum(s, "sort_order", "asc", "desc")
			bounds(s, "log_tail_lines", 1, 500, jobLogLines)
			enum(s, "log_event_types", "info", "warn", "error", "success")
			prop(s, "sort_by").Default = mustJSON("startTime")
			prop(s, "sort_order").Default = mustJSON("desc")
			paging(s, listPage, listPageMax)
		}, getJobs),
	define("run_job", "Run a job",
		"Starts a run of a component configuration (an extraction, transformation, writer or flow) and returns "+
			"the new job's id, status and link. The job runs asynchronously: follow it with get_jobs. Runs change "+
			"data in the project: start one only when the user asks.",
		hints{destructive: true}, func(s *jsonschema.Schema) {
			minLen(s, "component_id", 1)
			minLen(s, "configuration_id", 1)
		}, runJob),
}

type getJobsInput struct {
	JobIDs      []string `json:"job_ids,omitempty" jsonschema:"Ids of jobs to describe in full. Leave empty to list jobs."`
	Status      string   `json:"status,omitempty" jsonschema:"When listing, keep only jobs with this status."`
	ComponentID string   `json:"component_id,omitempty" jsonschema:"When listing, keep only jobs of this component."`
	ConfigID    string   `json:"config_id,omitempty" jsonschema:"When listing, keep only jobs of this configuration (with component_id)."`
	Limit       int      `json:"limit,omitempty" jsonschema:"Maximum number of jobs to list."`
	Offset      int      `json:"offset,omitempty" jsonschema:"Number of jobs to skip, for paging."`
	SortBy      string   `json:"sort_by,omitempty" jsonschema:"The field to sort the list by."`
	SortOrder   string   `json:"sort_order,omitempty" jsonschema:"Sort direction: desc lists the newest first."`
	// The Python server's log options. Job details here always end with the
	// job's newest log events (a failed job's reason is what is wanted), so
	// include_logs needs no effect; the other two shape that log.
	IncludeLogs   bool     `json:"include_logs,omitempty" jsonschema:"Accepted for compatibility: job details (job_ids) always include the job's newest log events."`
	LogTailLines  int      `json:"log_tail_lines,omitempty" jsonschema:"With job_ids: how many of each job's newest log events to show."`
	LogEventTypes []string `json:"log_event_types,omitempty" jsonschema:"With job_ids: show only log events of these types, e.g. [\"error\"]; all types when empty."`
}

// jobLogLines is how many of a job's newest events get_jobs shows.
const jobLogLines = 20

func getJobs(ctx context.Context, c call, in getJobsInput) (string, error) {
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	if len(in.JobIDs) > 0 {
		return jobDetails(ctx, c.client, u, in.JobIDs, jobLog{tail: defaultInt(in.LogTailLines, jobLogLines), types: in.LogEventTypes})
	}
	search := keboola.JobSearch{
		ComponentID: in.ComponentID,
		ConfigID:    in.ConfigID,
		Limit:       defaultInt(in.Limit, listPage),
		Offset:      in.Offset,
		SortBy:      in.SortBy,
		SortDesc:    in.SortOrder != "asc",
	}
	if in.Status != "" {
		search.Statuses = []string{in.Status}
	}
	jobs, err := c.client.SearchJobs(ctx, search)
	if err != nil {
		return "", err
	}
	if len(jobs) == 0 {
		return "No jobs match" + offsetNote(in.Offset) + ".\n" + links("Jobs", u.Jobs()), nil
	}
	rows := make([][]string, 0, len(jobs))
	for _, j := range jobs {
		// A successful job's message is boilerplate; a failure's says why.
		result := ""
		if j.Status != "success" {
			result = shorten(j.Result.Message, 120)
		}
		rows = append(rows, []string{j.ID.String(), j.Component, j.Config.String(), j.Status,
			day(j.CreatedTime.Time), duration(j.DurationSeconds), result})
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%s%s.\n", counted(len(jobs), "job"), offsetNote(in.Offset))
	out.WriteString(csvTable([]string{"id", "component_id", "configuration_id", "status", "created", "duration", "result"}, rows))
	if len(jobs) == search.Limit {
		fmt.Fprintf(&out, "There may be more: call again with offset=%d.\n", in.Offset+len(jobs))
	}
	out.WriteString(links("Jobs", u.Jobs()))
	return out.String(), nil
}

func offsetNote(offset int) string {
	if offset == 0 {
		return ""
	}
	return fmt.Sprintf(" from offset %d", offset)
}

func duration(sec float64) string {
	if sec <= 0 {
		return ""
	}
	return fmt.Sprintf("%.0fs", sec)
}

// jobLog says which of a job's log events its details show.
type jobLog struct {
	tail  int      // the newest this many events
	types []string // only these event types; all when empty
}

func jobDetails(ctx context.Context, c *keboola.Client, u keboola.Links, ids []string, log jobLog) (string, error) {
	return describeEach(ids, "job(s)", "get_jobs without job_ids lists recent jobs.", func(id string) (string, bool, error) {
		j, err := c.GetJob(ctx, id)
		if errors.Is(err, keboola.ErrNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		var out strings.Builder
		out.WriteString(jobFields(j, u))
		events, err := c.ListEvents(ctx, keboola.EventQuery{JobID: j.ID.String(), Limit: log.tail})
		if err != nil {
			return "", false, err
		}
		if len(log.types) > 0 {
			// Of the newest events, those of the asked types (as the Python
			// server filters its tail).
			events = slices.DeleteFunc(events, func(e keboola.Event) bool { return !slices.Contains(log.types, e.Type) })
		}
		if len(events) > 0 {
			out.WriteString("Log (newest first):\n")
			rows := make([][]string, 0, len(events))
			for _, e := range events {
				rows = append(rows, []string{day(e.Created.Time), e.Type, shorten(e.Message, 300)})
			}
			out.WriteString(csvTable([]string{"time", "type", "message"}, rows))
		}
		return out.String(), true, nil
	})
}

func jobFields(j *keboola.Job, u keboola.Links) string {
	var f fields
	f.add("Job", j.ID.String())
	f.add("Status", j.Status)
	f.add("Component", j.Component)
	f.add("Configuration", j.Config.String())
	if len(j.ConfigRowIDs) > 0 {
		ids := make([]string, len(j.ConfigRowIDs))
		for i, r := range j.ConfigRowIDs {
			ids[i] = r.String()
		}
		f.add("Rows", strings.Join(ids, ", "))
	}
	f.add("Created", day(j.CreatedTime.Time))
	f.add("Started", day(j.StartTime.Time))
	f.add("Ended", day(j.EndTime.Time))
	f.add("Duration", duration(j.DurationSeconds))
	f.add("Result", j.Result.Message)
	f.add("Link", u.Job(j.ID.String()))
	return f.String()
}

type runJobInput struct {
	ComponentID         string   `json:"component_id" jsonschema:"The component of the configuration to run, e.g. keboola.snowflake-transformation."`
	ConfigurationID     string   `json:"configuration_id" jsonschema:"The configuration to run."`
	ConfigurationRowIDs []string `json:"configuration_row_ids,omitempty" jsonschema:"Run only these rows of the configuration (get_configs shows their ids); empty runs all of them."`
}

func runJob(ctx context.Context, c call, in runJobInput) (string, error) {
	if strings.TrimSpace(in.ComponentID) == "" || strings.TrimSpace(in.ConfigurationID) == "" {
		return "", errorf("component_id and configuration_id are required; get_configs lists them")
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	// Check the configuration first: the queue would accept the job and fail
	// it later, which the model would only see on a later get_jobs.
	cfg, err := c.client.GetConfig(ctx, in.ComponentID, in.ConfigurationID)
	if errors.Is(err, keboola.ErrNotFound) {
		return "", errorf("configuration %s/%s not found; get_configs lists the existing ones", in.ComponentID, in.ConfigurationID)
	} else if err != nil {
		return "", err
	}
	// The queue refuses a disabled configuration with advice (mode forceRun)
	// this tool cannot follow; say what the user can do instead.
	if cfg.IsDisabled {
		return "", errorf("configuration %s/%s is disabled, so it does not run; someone must enable it in Keboola first (%s), then call run_job again",
			in.ComponentID, in.ConfigurationID, u.Config(in.ComponentID, in.ConfigurationID))
	}
	j, err := c.client.RunJob(ctx, keboola.JobRequest{ComponentID: in.ComponentID, ConfigID: in.ConfigurationID, ConfigRowIDs: in.ConfigurationRowIDs})
	if err != nil {
		return "", asUserError(err)
	}
	return "Job started; follow it with get_jobs(job_ids=[\"" + j.ID.String() + "\"]).\n" + jobFields(j, u), nil
}
