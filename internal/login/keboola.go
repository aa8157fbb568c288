package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// ErrUser is wrapped by errors whose message is meant for the person at the
// login page.
var ErrUser = errors.New("login")

type userError struct{ msg string }

func (e *userError) Error() string   { return e.msg }
func (e *userError) Is(t error) bool { return t == ErrUser }

// VerifyStorageToken checks a pasted Storage token against a stack already on
// the allowlist and returns the token's identity. Its errors read well on the
// login page and never contain the token.
func VerifyStorageToken(ctx context.Context, stackURL string, token keboola.Secret, opts keboola.Options) (*keboola.TokenInfo, error) {
	if strings.TrimSpace(token.Reveal()) == "" {
		return nil, &userError{MsgPasteToken}
	}
	info, err := keboola.VerifyToken(ctx, stackURL, keboola.Secret(strings.TrimSpace(token.Reveal())), opts)
	return info, ExplainTokenError(stackURL, err)
}

// ExplainTokenError words a keboola.VerifyToken failure for the login page
// (nil for nil); the Worker shows the same words through the wasm build.
func ExplainTokenError(stackURL string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keboola.ErrInvalidToken):
		return &userError{"Keboola did not accept this token on " + stackURL + ". Check that it belongs to a project on this stack and has not expired."}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &userError{"Keboola at " + stackURL + " did not answer in time. Try again in a moment."}
	default:
		return &userError{"Could not verify the token with " + stackURL + " (" + err.Error() + "). Try again later."}
	}
}

// Upstream is the Keboola OAuth client ("Sign in with Keboola"). Keboola's
// authorization server lives on each stack at /oauth/authorize and
// /oauth/token, so the endpoint is chosen per login.
type Upstream struct {
	ClientID     string
	ClientSecret keboola.Secret
	// RedirectURL is our /oauth/callback.
	RedirectURL string
	// HTTPClient is used for the token endpoint; nil means a client with a
	// 15 s timeout.
	HTTPClient *http.Client
	// Keboola configures the client that mints Storage tokens.
	Keboola keboola.Options
}

// UpstreamToken is what Keboola's token endpoint returned.
type UpstreamToken struct {
	AccessToken  keboola.Secret
	RefreshToken keboola.Secret
	Expiry       time.Time
}

func (u *Upstream) config(stackURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     u.ClientID,
		ClientSecret: u.ClientSecret.Reveal(),
		RedirectURL:  u.RedirectURL,
		Endpoint: oauth2.Endpoint{
			AuthURL:   stackURL + "/oauth/authorize",
			TokenURL:  stackURL + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

func (u *Upstream) ctx(ctx context.Context) context.Context {
	c := u.HTTPClient
	if c == nil {
		c = &http.Client{Timeout: 15 * time.Second}
	}
	return context.WithValue(ctx, oauth2.HTTPClient, c)
}

// NewVerifier returns a fresh PKCE code verifier for one sign-in. It stays
// on this server (sealed in the pending state) until the code comes back.
func NewVerifier() string { return oauth2.GenerateVerifier() }

// AuthCodeURL is where the browser goes to sign in to stackURL. It carries
// the S256 challenge of verifier (PKCE, required of every OAuth 2.1 client,
// confidential ones too): a code intercepted on its way back is useless
// without the verifier. An empty verifier sends no challenge; only the
// Worker bridge still does that, until the Worker keeps a verifier.
func (u *Upstream) AuthCodeURL(stackURL, state, verifier string) string {
	if verifier == "" {
		return u.config(stackURL).AuthCodeURL(state)
	}
	return u.config(stackURL).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// Exchange redeems the code Keboola sent to the callback, proving the
// verifier whose challenge AuthCodeURL sent (none when it is empty).
func (u *Upstream) Exchange(ctx context.Context, stackURL, code, verifier string) (*UpstreamToken, error) {
	var opts []oauth2.AuthCodeOption
	if verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	t, err := u.config(stackURL).Exchange(u.ctx(ctx), code, opts...)
	if err != nil {
		return nil, fmt.Errorf("keboola sign-in at %s failed: %w", stackURL, scrub(err))
	}
	return fromOAuth2(t), nil
}

// Refresh trades the upstream refresh token for a new access token.
func (u *Upstream) Refresh(ctx context.Context, stackURL string, refresh keboola.Secret) (*UpstreamToken, error) {
	src := u.config(stackURL).TokenSource(u.ctx(ctx), &oauth2.Token{RefreshToken: refresh.Reveal(), Expiry: time.Unix(1, 0)})
	t, err := src.Token()
	if err != nil {
		return nil, fmt.Errorf("refreshing the Keboola sign-in at %s failed: %w", stackURL, scrub(err))
	}
	out := fromOAuth2(t)
	if out.RefreshToken.IsZero() {
		out.RefreshToken = refresh
	}
	return out, nil
}

// MintStorageToken turns an upstream access token into a Storage token,
// which every Keboola service accepts (Queue and AI take no Bearer).
func (u *Upstream) MintStorageToken(ctx context.Context, stackURL string, bearer keboola.Secret, ttl time.Duration) (*keboola.NewToken, error) {
	c, err := keboola.NewWithBearer(stackURL, bearer, u.Keboola)
	if err != nil {
		return nil, err
	}
	return c.CreateToken(ctx, keboola.TokenRequest{
		Description:           "keboola-mcp (Sign in with Keboola)",
		CanManageBuckets:      true,
		CanReadAllFileUploads: true,
		ExpiresIn:             ttl,
	})
}

func fromOAuth2(t *oauth2.Token) *UpstreamToken {
	return &UpstreamToken{AccessToken: keboola.Secret(t.AccessToken), RefreshToken: keboola.Secret(t.RefreshToken), Expiry: t.Expiry}
}

// ErrUpstreamRejected marks an answer from Keboola's token endpoint that
// refused the request (as opposed to a network failure): the sign-in is over.
var ErrUpstreamRejected = errors.New("keboola refused")

// scrub keeps the upstream response body (which may echo credentials) out of
// error strings, keeping only the OAuth error code.
func scrub(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	code := re.ErrorCode
	if code == "" {
		code = "HTTP " + fmt.Sprint(re.Response.StatusCode)
	}
	// RFC 6749 §5.2 errors come as 400 or 401; anything else (5xx, 429) is
	// a passing failure that must not end the user's sign-in.
	if s := re.Response.StatusCode; s == 400 || s == 401 {
		return fmt.Errorf("%w: %s", ErrUpstreamRejected, code)
	}
	return errors.New("keboola token endpoint: " + code)
}
