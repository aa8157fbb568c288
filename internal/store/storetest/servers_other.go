//go:build !unix

package storetest

import (
	"os"
	"os/exec"
)

// unprivileged leaves cmd as it is: only Unix systems run the tests as
// root and need to drop privileges for PostgreSQL.
func unprivileged(*exec.Cmd) {}

func scratchDir(prefix string) (string, error) { return os.MkdirTemp("", prefix) }
