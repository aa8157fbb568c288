package keboola

// flowsPath is the UI section of a flow component: conditional flows live
// under flows-v2, legacy ones under flows.
func flowsPath(flowComponentID string) string {
	if flowComponentID == ConditionalFlowComponentID {
		return "flows-v2"
	}
	return "flows"
}

// FlowsOf lists the project's flows of one flow component.
func (l Links) FlowsOf(flowComponentID string) string { return l.join(flowsPath(flowComponentID)) }

// FlowOf is a flow's detail page for either flow component.
func (l Links) FlowOf(flowComponentID, configID string) string {
	return l.join(flowsPath(flowComponentID), configID)
}

// FlowSchedules is the schedules tab of a flow.
func (l Links) FlowSchedules(flowComponentID, configID string) string {
	return l.join(flowsPath(flowComponentID), configID, "schedules")
}
