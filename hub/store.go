package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	fmixzoo "github.com/fmixzoo/zoo"
)

// Store holds weights objects under slash-separated keys. Implementations
// are safe for concurrent use. Errors wrap ErrNotFound, ErrAccessDenied or
// ErrReadOnly where callers may branch on them; other errors may be
// transient (see IsTransient).
type Store interface {
	// Get opens an object for reading. The caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error)
	// Stat describes an object without reading it.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Put writes an object of the given size (-1 when unknown).
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// List describes the objects whose keys start with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// String names the store for messages; it never contains credentials.
	String() string
}

// ObjectInfo describes a stored object. Size is -1 when unknown.
type ObjectInfo struct {
	Key     string
	Size    int64
	ModTime time.Time
}

var (
	// ErrNotFound: the store has no object under the key.
	ErrNotFound = errors.New("object not found")
	// ErrAccessDenied: the store refused the credentials or the request.
	ErrAccessDenied = errors.New("access denied")
	// ErrReadOnly: the store cannot be written (embedded or http store).
	ErrReadOnly = errors.New("store is read-only")
)

// transientError marks a failure worth retrying (network trouble, 5xx, 429).
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// IsTransient reports whether err is worth retrying: a network failure, a
// connection cut short, or a server-side (5xx) or throttling (429) answer.
// Context cancellation, missing objects, refused credentials and checksum
// mismatches are not.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrAccessDenied) || errors.Is(err, ErrChecksum) {
		return false
	}
	var te *transientError
	if errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ue *url.Error // net/http client errors: refused, reset, timeouts
	if errors.As(err, &ue) {
		return true
	}
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne)
}

// StoreOptions configure OpenStore.
type StoreOptions struct {
	// HTTPClient is used by the http and s3 stores; nil means a client with
	// sane timeouts.
	HTTPClient *http.Client
	// S3Endpoint is the s3 store's endpoint (http://host:port or
	// https://host); "": https://s3.amazonaws.com. FromEnv's client sets
	// it from ZOO_S3_ENDPOINT.
	S3Endpoint string
	// S3Region is the s3 store's region (FromEnv: AWS_REGION).
	S3Region string
}

// DefaultStoreURI is the store used when no other is given (a Client's
// StoreURI "", ZOO_STORE unset): the weights/ directory embedded in the
// binary.
const DefaultStoreURI = "embedded:"

// OpenStore opens a store by URI:
//
//	embedded:              the weights/ directory embedded in the binary (read-only)
//	file:///abs/dir, DIR   a directory
//	s3://BUCKET/PREFIX     S3 or an S3-compatible server, through minio-go
//	http(s)://HOST/PATH    read-only HTTP
func OpenStore(uri string, o StoreOptions) (Store, error) {
	switch {
	case uri == DefaultStoreURI || uri == "":
		return NewFSStore(fmixzoo.Weights, "weights", "embedded:weights/")
	case strings.HasPrefix(uri, "file://"):
		u, err := url.Parse(uri)
		if err != nil {
			return nil, fmt.Errorf("hub: open store: %w", err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("hub: open store %q: file URIs must be file:///absolute/dir", uri)
		}
		return NewDirStore(u.Path)
	case strings.HasPrefix(uri, "s3://"):
		return newS3StoreFromURI(uri, o)
	case strings.HasPrefix(uri, "http://"), strings.HasPrefix(uri, "https://"):
		return NewHTTPStore(uri, o.HTTPClient)
	case strings.Contains(uri, "://"):
		return nil, fmt.Errorf("hub: open store %q: unknown scheme (want file://, s3://, http:// or https://)", redactURL(uri))
	default:
		return NewDirStore(uri)
	}
}

// redactURL drops any user:password part of a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if i := strings.Index(s, "@"); i >= 0 && strings.Contains(s[:i], "://") {
			return s[:strings.Index(s, "://")+3] + "REDACTED@" + s[i+1:]
		}
		return s
	}
	u.User = url.User("REDACTED")
	return u.String()
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 60 * time.Second
	return &http.Client{Transport: t}
}
