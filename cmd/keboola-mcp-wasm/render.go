//go:build js && wasm

package main

import (
	"errors"
	"syscall/js"

	"github.com/keboola-mcp/keboola-mcp/internal/login"
)

// renderLogin implements keboolaMCP.renderLogin(model): the login + consent
// page as an HTML document with the headers it must be sent with, from the
// same template and login.PageHeaders as the native server, so both
// deployments show one page under one policy and one Go function does the
// escaping. The form posts back to the Worker's own URL and carries no
// sealed request: the Worker's consent helpers keep the request and hand
// out the csrf handle.
func renderLogin(_ js.Value, args []js.Value) any {
	if len(args) != 1 || args[0].Type() != js.TypeObject {
		return js.Global().Get("Error").New("renderLogin(model) takes one object")
	}
	p, err := decodePage(args[0])
	if err != nil {
		return js.Global().Get("Error").New("renderLogin: " + err.Error())
	}
	headers := map[string]any{}
	for k, v := range p.Headers() {
		headers[k] = v
	}
	return map[string]any{"html": login.HTML(p), "headers": headers}
}

// decodePage reads the model, refusing one that would render a page the
// user cannot act on (no client, no stack to choose, no csrf handle).
func decodePage(m js.Value) (*login.Page, error) {
	// The page names the redirect as the native server does (host with
	// port), so it is derived here from the URI, not taken from the caller.
	redirectURI := stringField(m, "redirectURI")
	p := &login.Page{
		ClientName:   stringField(m, "clientName"),
		ClientID:     stringField(m, "clientID"),
		RedirectHost: login.RedirectHost(redirectURI),
		Verified:     boolField(m, "verified"),
		Loopback:     login.IsLocalRedirect(redirectURI),
		Stack:        stringField(m, "stack"),
		Read:         boolField(m, "read"),
		Write:        boolField(m, "write"),
		CSRF:         stringField(m, "csrf"),
		Upstream:     boolField(m, "upstream"),
		Error:        stringField(m, "error"),
		ErrorField:   stringField(m, "errorField"),
	}
	if p.ClientName == "" || redirectURI == "" || p.CSRF == "" {
		return nil, errors.New("clientName, redirectURI and csrf are required strings")
	}
	switch p.ErrorField {
	case "", login.FieldStack, login.FieldToken, login.FieldScope:
	default:
		return nil, errors.New("errorField must be stack_url, storage_token or scope")
	}
	stacks := m.Get("stacks")
	if !stacks.InstanceOf(js.Global().Get("Array")) || stacks.Length() == 0 {
		return nil, errors.New("stacks must be a non-empty array of stack URLs")
	}
	for i := range stacks.Length() {
		s := stacks.Index(i)
		if s.Type() != js.TypeString || s.String() == "" {
			return nil, errors.New("stacks must be a non-empty array of stack URLs")
		}
		p.Stacks = append(p.Stacks, s.String())
	}
	// The form's answer goes to the client, or with Sign in with Keboola
	// first to a stack, as on the native server.
	var upstreamStacks []string
	if p.Upstream {
		upstreamStacks = p.Stacks
	}
	p.FormTargets = login.FormTargets(redirectURI, upstreamStacks)
	return p, nil
}

// boolField is true only for an explicit true: a missing flag must not
// mark a client verified or tick a scope.
func boolField(v js.Value, name string) bool {
	f := v.Get(name)
	return f.Type() == js.TypeBoolean && f.Bool()
}
