package access

import "testing"

// The Python server's Config treats these branch values as the main branch.
func TestNormalizeBranchID(t *testing.T) {
	for raw, want := range map[string]string{
		"": "", " default ": "", "Production": "", "none": "", "NULL": "", "1234": "1234", " 77 ": "77",
	} {
		if got := NormalizeBranchID(raw); got != want {
			t.Errorf("NormalizeBranchID(%q) = %q, want %q", raw, got, want)
		}
	}
}
