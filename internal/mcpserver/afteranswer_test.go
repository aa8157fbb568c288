package mcpserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
	"github.com/keboola-mcp/keboola-mcp/internal/tools"
)

const getBucketsCall = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_buckets","arguments":{}}}`

// TestToolCall_AnswersBeforeItsAuditEventIsPosted: a tool call's answer does
// not wait for its audit event (a Storage round trip on every call), and
// Settle, which a stopping server runs, waits for the event.
func TestToolCall_AnswersBeforeItsAuditEventIsPosted(t *testing.T) {
	stack := fakestacktest.NewServer(t, fakestack.Options{NoDemo: true})
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	release, posted := make(chan struct{}), make(chan string, 1)
	srv.deps.Audit = func(_ context.Context, _ *keboola.Client, ev keboola.EventInput) {
		<-release
		posted <- ev.Message
	}
	a := access.Access{Credentials: keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())}}
	answered := make(chan *Recorder, 1)
	go func() {
		answered <- serveStatic(access.With(context.Background(), a), srv.StreamableHandler(), "2025-06-18", []byte(getBucketsCall))
	}()
	select {
	case rec := <-answered:
		if rec.StatusCode() != 200 || !strings.Contains(rec.Body.String(), `"result"`) || strings.Contains(rec.Body.String(), `"isError":true`) {
			t.Fatalf("answer %d: %s", rec.StatusCode(), rec.Body.String())
		}
	case <-time.After(30 * time.Second):
		close(release)
		t.Fatal("the answer waited for the audit event")
	}
	early, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if srv.Settle(early) == nil {
		t.Fatal("Settle returned while the audit event was still being posted")
	}
	close(release)
	if err := srv.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if msg := <-posted; !strings.Contains(msg, "get_buckets") {
		t.Errorf("audit event %q", msg)
	}
}

// TestToolCall_ACallerCollectingTheWorkGetsIt: the Worker collects the
// work itself (it posts once its answer is out); the server leaves it alone.
func TestToolCall_ACallerCollectingTheWorkGetsIt(t *testing.T) {
	stack := fakestacktest.NewServer(t, fakestack.Options{NoDemo: true})
	srv, err := New(WorkerOptions("dev"))
	if err != nil {
		t.Fatal(err)
	}
	a := access.Access{Credentials: keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())}}
	var later tools.AfterAnswer
	ctx := tools.WithAfterAnswer(access.With(context.Background(), a), &later)
	if rec := serveStatic(ctx, srv.StreamableHandler(), "2025-06-18", []byte(getBucketsCall)); rec.StatusCode() != 200 {
		t.Fatalf("answer %d: %s", rec.StatusCode(), rec.Body.String())
	}
	if !later.Pending() {
		t.Fatal("the caller's AfterAnswer got no work: the server posted the event itself")
	}
	none, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Settle(none); err != nil {
		t.Fatal("the server tracks work its caller collected")
	}
	later.Run(context.Background())
}
