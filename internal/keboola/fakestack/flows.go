package fakestack

// demoConditionalFlowConfig is the demo keboola.flow configuration.
const demoConditionalFlowConfig = "7410031"

// seedConditionalFlow adds a conditional flow (component keboola.flow) to the
// demo project: the ERP load is retried, a failed load sends an e-mail and
// ends the flow, a successful one refreshes the reports. It carries no
// schedule, unlike the legacy demo flow.
func seedConditionalFlow(st *state, master *token) {
	job := func(comp, cfg string) map[string]any {
		return map[string]any{"type": "job", "componentId": comp, "configId": cfg, "mode": "run"}
	}
	c := st.addConfig("keboola.flow", demoConditionalFlowConfig, "Inventory refresh with alerting",
		"Loads the ERP dump; refreshes the reports when it succeeds and e-mails the data team when it fails.",
		map[string]any{
			"phases": []any{
				map[string]any{"id": "load", "name": "Load ERP",
					"retry": map[string]any{"strategy": "linear", "strategyParams": map[string]any{"maxRetries": 2, "delay": 60}},
					"next": []any{
						map[string]any{"id": "load-failed", "name": "Load failed",
							"condition": map[string]any{"type": "operator", "operator": "NOT_EQUALS", "operands": []any{
								map[string]any{"type": "phase", "phase": "load", "value": "status"},
								map[string]any{"type": "const", "value": "success"},
							}},
							"goto": "alert"},
						map[string]any{"id": "load-ok", "goto": "refresh"},
					}},
				map[string]any{"id": "refresh", "name": "Refresh reports"},
				map[string]any{"id": "alert", "name": "Alert the data team"},
			},
			"tasks": []any{
				map[string]any{"id": "erp", "name": "ERP", "phase": "load", "enabled": true, "task": job("keboola.ex-aws-s3", demoS3Config)},
				map[string]any{"id": "reports", "name": "Revenue reports", "phase": "refresh", "enabled": true,
					"task": job(st.s.sqlTransformation(), demoTransformConfig)},
				map[string]any{"id": "mail", "name": "E-mail", "phase": "alert", "enabled": true, "task": map[string]any{
					"type": "notification", "title": "ERP load failed",
					"message": "The nightly ERP dump could not be loaded; reports were not refreshed.",
					"channel": map[string]any{"type": "email", "recipients": []any{"data-team@example.com"}},
				}},
			},
		}, master)
	c.created = demoEpoch
	c.versions[0].created = demoEpoch
}
