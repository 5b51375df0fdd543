package catalogs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go/catalog/rest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Bounds on talking to a catalog server. They limit how long a host may stay silent, never how
// long a sync may run: a connection must be made (and a PostgreSQL session started) within
// ConnectTimeout, and a REST catalog or token endpoint must start answering a request within
// AnswerTimeout. A host that accepts connections and never answers is reported after them.
var (
	ConnectTimeout = 10 * time.Second
	AnswerTimeout  = 60 * time.Second
)

// restTransport is the HTTP transport of REST catalog and OAuth2 token requests.
func restTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   ConnectTimeout,
		ResponseHeaderTimeout: AnswerTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
}

// explainTimeout rewrites a timeout in err as a sentence naming what stayed silent and for how
// long (connect is the bound of connection and session start-up); other errors, and errors an
// OAuth2 token request already explained, are returned as they are.
func explainTimeout(err error, what string, connect time.Duration) error {
	if err == nil || errors.Is(err, rest.ErrOAuthError) {
		return err
	}
	msg := err.Error()
	var ne net.Error
	switch {
	case strings.Contains(msg, "timeout awaiting response headers"):
		return fmt.Errorf("%s accepted the connection but sent no answer within %s: %w", what, AnswerTimeout, err)
	case strings.Contains(msg, "TLS handshake timeout"):
		return fmt.Errorf("%s did not complete the TLS handshake within %s: %w", what, connect, err)
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Errorf("%s did not answer within %s (connection and session start-up): %w", what, connect, err)
	}
	return err
}

// withConnectTimeout adds connect_timeout (whole seconds) to a postgres:// DSN that has none, and
// returns the bound in force; pgx applies it to the TCP connection, the TLS negotiation and the
// session start-up together.
func withConnectTimeout(dsn string) (string, time.Duration) {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn, 0
	}
	q := u.Query()
	if v := q.Get("connect_timeout"); v != "" {
		secs, _ := strconv.Atoi(v)
		return dsn, time.Duration(secs) * time.Second
	}
	secs := max(1, int((ConnectTimeout+time.Second-1)/time.Second))
	q.Set("connect_timeout", strconv.Itoa(secs))
	u.RawQuery = q.Encode()
	return u.String(), time.Duration(secs) * time.Second
}

// oauthManager is the REST catalog's OAuth2 client-credentials flow, as iceberg-go's own, but a
// token endpoint's refusal is reported with its cause: the HTTP status, the OAuth error code and
// description, or the start of the body when it is not an OAuth error.
type oauthManager struct {
	tokenURL string
	ts       oauth2.TokenSource
}

var _ rest.ContextAuthManager = (*oauthManager)(nil)

// newOAuthManager builds the flow for "client_id:client_secret" (or a bare secret) against
// tokenURL, with the given scope ("catalog" when empty).
func newOAuthManager(credential, tokenURL, scope string) *oauthManager {
	id, secret, found := strings.Cut(credential, ":")
	if !found {
		id, secret = "", credential
	}
	if scope == "" {
		scope = "catalog"
	}
	cfg := &clientcredentials.Config{
		ClientID: id, ClientSecret: secret, TokenURL: tokenURL,
		Scopes: []string{scope}, AuthStyle: oauth2.AuthStyleInParams,
	}
	hc := &http.Client{Transport: restTransport(), Timeout: ConnectTimeout + AnswerTimeout}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	return &oauthManager{tokenURL: tokenURL, ts: cfg.TokenSource(ctx)}
}

func (m *oauthManager) AuthHeader() (string, string, error) {
	tok, err := m.ts.Token()
	if err != nil {
		return "", "", m.describe(err)
	}
	return "Authorization", tok.Type() + " " + tok.AccessToken, nil
}

func (m *oauthManager) AuthHeaderWithContext(ctx context.Context) (string, string, error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	return m.AuthHeader()
}

func (m *oauthManager) describe(err error) error {
	where := "the OAuth2 token endpoint " + redactURL(m.tokenURL)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("%w: requesting a token: %w", rest.ErrOAuthError, explainTimeout(err, where, ConnectTimeout))
	}
	status := "an error"
	if re.Response != nil {
		status = "HTTP " + re.Response.Status
	}
	var why string
	switch {
	case re.ErrorCode != "":
		why = re.ErrorCode
		if re.ErrorDescription != "" {
			why += ": " + re.ErrorDescription
		}
	case len(strings.TrimSpace(string(re.Body))) > 0:
		why = "body " + excerpt(re.Body, 200)
	default:
		why = "no body"
	}
	hint := ""
	if re.Response != nil && (re.Response.StatusCode == http.StatusUnauthorized || re.Response.StatusCode == http.StatusBadRequest || re.Response.StatusCode == http.StatusForbidden) {
		hint = "; check catalog.credential (client_id:client_secret), catalog.scope and catalog.oauth2_server_uri"
	}
	return fmt.Errorf("%w: %s answered %s (%s)%s", rest.ErrOAuthError, where, status, why, hint)
}

// excerpt returns the start of b on one line, quoted.
func excerpt(b []byte, n int) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return fmt.Sprintf("%q", s)
}
