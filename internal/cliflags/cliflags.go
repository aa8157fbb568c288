// Package cliflags parses the flags of the keboola-mcp commands: flags on
// the command line, then KEBOOLA_MCP_<FLAG> environment variables.
package cliflags

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// ErrUsage reports bad flags; the flag package has already printed why.
var ErrUsage = errors.New("usage")

// NewFlagSet returns a flag set for a command that prints to stderr.
func NewFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// Parse parses args, then fills every flag not given on the command line
// from the environment variable KEBOOLA_MCP_<FLAG> (upper case, dashes as
// underscores), so containers and the Worker can configure the server by env.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return ErrUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		return ErrUsage
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		name := envName(f.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		if err := f.Value.Set(v); err != nil { // a list flag splits v at commas
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	})
	return errors.Join(errs...)
}

func envName(flagName string) string {
	return "KEBOOLA_MCP_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// StringList is a list flag, repeated or comma-separated: --tools a,b and
// --tools a --tools b mean the same (the README and the Python server's
// clients write the first). No value it holds (tool names, stack URLs,
// origins, client id:secret pairs) contains a comma.
type StringList []string

func (l *StringList) String() string { return strings.Join(*l, ",") }

func (l *StringList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}
