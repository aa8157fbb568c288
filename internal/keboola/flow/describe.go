package flow

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// ConditionText renders a condition as a short expression for the outline;
// the exact form is in the configuration JSON.
func ConditionText(v any) string { return conditionText(v, 0) }

func conditionText(v any, depth int) string {
	m, _ := v.(map[string]any)
	if m == nil || depth > condMaxDepth {
		return "?"
	}
	operands, _ := m["operands"].([]any)
	parts := make([]string, len(operands))
	for i, o := range operands {
		parts[i] = conditionText(o, depth+1)
	}
	switch m["type"] {
	case "const", "constant":
		b, _ := json.Marshal(m["value"])
		return string(b)
	case "phase":
		p, _ := ID(m["phase"])
		return fmt.Sprintf("phase %s.%v", p, m["value"])
	case "task":
		t, _ := ID(m["task"])
		return fmt.Sprintf("task %s.%v", t, m["value"])
	case "variable":
		return fmt.Sprintf("$%v", m["value"])
	case "function", "array":
		name := "ARRAY"
		if f, ok := m["function"].(string); ok {
			name = f
		}
		return name + "(" + strings.Join(parts, ", ") + ")"
	case "operator":
		op, _ := m["operator"].(string)
		if slices.Contains(condPhase, op) {
			p, _ := ID(m["phase"])
			return fmt.Sprintf("%s(%s: %s)", op, p, strings.Join(parts, ", "))
		}
		if len(parts) == 2 || slices.Contains(condLogic, op) {
			s := strings.Join(parts, " "+op+" ")
			if depth > 0 {
				s = "(" + s + ")"
			}
			return s
		}
		return op + "(" + strings.Join(parts, ", ") + ")"
	}
	return "?"
}
