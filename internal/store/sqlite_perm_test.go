//go:build unix

package store

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The database holds only hashes and ciphertext, but it is still nobody
// else's business: the file and its WAL companions are created 0600, and a
// file left world-readable by an earlier version is tightened on open.
func TestSQLite_FilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022) // the usual default, which made the file 0644
	defer syscall.Umask(old)
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.db")
	s, err := OpenSQLite(context.Background(), fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	issued(t, s) // writes, so the WAL and shared-memory files exist
	for _, p := range []string{fresh, fresh + "-wal", fresh + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), m)
		}
	}
	legacy := filepath.Join(dir, "legacy.db")
	if err := os.WriteFile(legacy, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenSQLite(context.Background(), legacy)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if fi, err := os.Stat(legacy); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("a world-readable database left as %v, %v; want it tightened to 600", fi.Mode(), err)
	}
}
