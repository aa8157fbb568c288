package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// Key scheme (see docs/security.md):
//
//   - The server secret S (KEBOOLA_MCP_SECRET) never encrypts anything
//     itself; labelled subkeys are derived from it with HMAC-SHA256.
//   - Each grant has a random 256-bit data key DK. The grant's Keboola
//     credentials are stored as AES-256-GCM(DK, credentials), with the grant
//     id as additional data so ciphertexts cannot be swapped between grants.
//   - DK is stored only wrapped, once per code or token T:
//     AES-256-GCM(KEK_T, DK) with KEK_T = HMAC-SHA256(wrapKey, T). The store
//     keeps SHA-256(T) to find the record, which does not yield KEK_T.
//
// So reading a grant's credentials needs a live token and the server
// secret: a database dump alone, or a token alone, reveals nothing.

const keySize = 32

type keys struct {
	wrap   []byte // derives per-token key-encryption keys
	seal   []byte // seals authorization requests carried by the login form and upstream state
	cookie []byte // CSRF tokens and browser bindings
}

func deriveKeys(secret []byte) keys {
	d := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("keboola-mcp/v1/" + label))
		return m.Sum(nil)
	}
	return keys{wrap: d("wrap"), seal: d("seal"), cookie: d("cookie")}
}

// Token prefixes make our credentials recognisable to secret scanners and
// make a token of one kind useless where another is expected.
const (
	prefixAccess  = "kmcp_at_"
	prefixRefresh = "kmcp_rt_"
	prefixCode    = "kmcp_ac_"
	prefixClient  = "kmcp_cs_"
)

// newToken returns prefix + 256 random bits.
func newToken(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is the lookup key stored for a token.
func hashToken(t string) []byte {
	s := sha256.Sum256([]byte(t))
	return s[:]
}

func hasPrefix(t, prefix string) bool { return strings.HasPrefix(t, prefix) && len(t) < 200 }

func (k keys) kek(token string) []byte {
	m := hmac.New(sha256.New, k.wrap)
	m.Write([]byte(token))
	return m.Sum(nil)
}

func (k keys) wrapKey(token string, dk []byte) ([]byte, error) {
	return seal(k.kek(token), dk, []byte("dk"))
}

func (k keys) unwrapKey(token string, wrapped []byte) ([]byte, error) {
	return open(k.kek(token), wrapped, []byte("dk"))
}

func newDataKey() []byte {
	b := make([]byte, keySize)
	rand.Read(b)
	return b
}

// seal encrypts with AES-256-GCM and a random nonce, prepended.
func seal(key, plain, aad []byte) ([]byte, error) {
	a, err := gcm(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	return a.Seal(nonce, nonce, plain, aad), nil
}

var errDecrypt = errors.New("oauth: cannot decrypt")

func open(key, sealed, aad []byte) ([]byte, error) {
	a, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < a.NonceSize() {
		return nil, errDecrypt
	}
	out, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], aad)
	if err != nil {
		return nil, errDecrypt
	}
	return out, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
