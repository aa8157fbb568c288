package access

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecret_NeverPrintsItsValue(t *testing.T) {
	const raw = "1234-abcdefSECRET"
	s := Secret(raw)
	creds := Credentials{StackURL: "https://connection.keboola.com", StorageToken: s}

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "token", s, "creds", creds)
	js, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	renderings := map[string]string{
		//lint:ignore S1025 the test is about what fmt prints for a Secret
		"%s":   fmt.Sprintf("%s", s),
		"%v":   fmt.Sprintf("%v", creds),
		"%+v":  fmt.Sprintf("%+v", creds),
		"%#v":  fmt.Sprintf("%#v", creds),
		"json": string(js),
		"slog": logged.String(),
		"err":  fmt.Errorf("call failed with %v", s).Error(),
	}
	for name, out := range renderings {
		if strings.Contains(out, raw) {
			t.Errorf("%s rendering leaks the secret: %s", name, out)
		}
	}
	if s.Reveal() != raw {
		t.Errorf("Reveal() = %q, want the raw value", s.Reveal())
	}
}
