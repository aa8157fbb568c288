package keboola

// Transformation is a transformation configuration's page in the
// transformations section of the UI.
func (l Links) Transformation(componentID, configID string) string {
	return l.join("transformations-v2", componentID, configID)
}
