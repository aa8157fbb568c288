package tools

import (
	"fmt"
	"strings"
)

// describeEach answers a get_* call that names items by id: each found
// item's description in turn, blank-line separated. describe reports
// found=false for an id that does not exist; those ids are listed after the
// others, and when none exists the call fails. what names the kind of item
// ("bucket(s)") and next says how to see the existing ones, so the model
// knows which tool to call instead.
func describeEach(ids []string, what, next string, describe func(id string) (text string, found bool, err error)) (string, error) {
	var out strings.Builder
	var missing []string
	for _, id := range ids {
		text, found, err := describe(id)
		if err != nil {
			return "", err
		}
		if !found {
			missing = append(missing, id)
			continue
		}
		if out.Len() > 0 {
			out.WriteString("\n")
		}
		out.WriteString(text)
	}
	if len(missing) == len(ids) {
		return "", errorf("%s not found: %s. %s", what, strings.Join(missing, ", "), next)
	}
	if len(missing) > 0 {
		fmt.Fprintf(&out, "\nNot found: %s. %s\n", strings.Join(missing, ", "), next)
	}
	return out.String(), nil
}
