package oauth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
)

// metadataVectors is testdata/security/client-metadata.json: registration
// bodies with the expected answer, shared with the Worker's suite so both
// deployments apply one set of metadata rules.
type metadataVectors struct {
	Limits struct {
		MaxBodyBytes        int `json:"max_body_bytes"`
		MaxRedirectURIs     int `json:"max_redirect_uris"`
		MaxRedirectURIChars int `json:"max_redirect_uri_chars"`
		MaxClientNameChars  int `json:"max_client_name_chars"`
	} `json:"limits"`
	Cases []struct {
		Name   string         `json:"name"`
		Body   map[string]any `json:"body"`
		Raw    *string        `json:"raw"`
		Expand map[string]struct {
			Repeat   string `json:"repeat"`
			Template string `json:"template"`
			Times    int    `json:"times"`
		} `json:"expand"`
		Expect string `json:"expect"`
		Status int    `json:"status"`
		Error  string `json:"error"`
	} `json:"cases"`
}

func TestRegister_SharedClientMetadataVectors(t *testing.T) {
	b, err := os.ReadFile("../../testdata/security/client-metadata.json")
	if err != nil {
		t.Fatal(err)
	}
	var v metadataVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	// The file states the limits in force; they must be this server's.
	if v.Limits.MaxBodyBytes != maxRegisterBody || v.Limits.MaxRedirectURIs != maxRedirectURIs || v.Limits.MaxClientNameChars != maxClientNameLen || v.Limits.MaxRedirectURIChars != 2000 {
		t.Fatalf("vector limits %+v differ from the server's (%d, %d, %d)", v.Limits, maxRegisterBody, maxRedirectURIs, maxClientNameLen)
	}
	if len(v.Cases) < 40 {
		t.Fatalf("only %d vectors read", len(v.Cases))
	}
	e := newEnv(t, func(c *Config) { c.RegisterBurst = 1000 })
	for _, tc := range v.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			body := tc.Body
			for field, x := range tc.Expand {
				switch {
				case x.Template != "":
					var list []string
					for i := range x.Times {
						list = append(list, strings.ReplaceAll(x.Template, "{i}", fmt.Sprint(i)))
					}
					body[field] = list
				default:
					body[field] = strings.Repeat(x.Repeat, x.Times)
				}
			}
			raw := ""
			if tc.Raw != nil {
				raw = *tc.Raw
			} else {
				enc, _ := json.Marshal(body)
				raw = string(enc)
			}
			before := e.stats().Clients
			req, _ := http.NewRequest("POST", e.ts.URL+"/register", strings.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			r := do(t, http.DefaultClient, req)
			if r.status != tc.Status {
				t.Fatalf("status %d, want %d (%s): %s", r.status, tc.Status, tc.Expect, r.body)
			}
			stored := e.stats().Clients - before
			switch tc.Expect {
			case "accept":
				if id, _ := r.json["client_id"].(string); id == "" || stored != 1 {
					t.Errorf("accepted without a stored client: %s", r.body)
				}
			case "reject":
				if r.json["error"] != tc.Error || stored != 0 {
					t.Errorf("error %v (stored %d), want %s and nothing stored: %s", r.json["error"], stored, tc.Error, r.body)
				}
			default:
				t.Fatalf("expect %q is neither accept nor reject", tc.Expect)
			}
		})
	}
}
