package hub

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// HTTPStore is a read-only Store over plain HTTP(S): an object is fetched
// with GET BASE/KEY. Put and List fail with ErrReadOnly.
type HTTPStore struct {
	base   *url.URL
	client *http.Client
}

// NewHTTPStore returns a store reading from base (http:// or https://).
// User information in base is sent as basic auth and never printed.
func NewHTTPStore(base string, client *http.Client) (*HTTPStore, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("hub: open store %q: want http(s)://HOST/PATH", redactURL(base))
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	if client == nil {
		client = defaultHTTPClient()
	}
	return &HTTPStore{base: u, client: client}, nil
}

func (s *HTTPStore) String() string { return redactURL(s.base.String()) }

func (s *HTTPStore) request(ctx context.Context, method, key string) (*http.Response, error) {
	if err := validateKey(key); err != nil {
		return nil, err
	}
	u := *s.base
	u.User = nil
	u.Path += key
	u.RawPath = ""
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if s.base.User != nil {
		pw, _ := s.base.User.Password()
		req.SetBasicAuth(s.base.User.Username(), pw)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, &transientError{fmt.Errorf("%s %s: %w", method, key, unwrapURLError(err))}
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return nil, statusError(method, key, resp.StatusCode)
}

// unwrapURLError drops the URL from a net/http error: the URL is already in
// our messages and may carry a presigned query.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func statusError(method, key string, code int) error {
	err := fmt.Errorf("%s %s: HTTP %d %s", method, key, code, http.StatusText(code))
	switch {
	case code == http.StatusNotFound:
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%w: %w", err, ErrAccessDenied)
	case code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout:
		return &transientError{err}
	}
	return err
}

func objectInfo(key string, resp *http.Response) ObjectInfo {
	info := ObjectInfo{Key: key, Size: resp.ContentLength}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		info.ModTime = t
	}
	return info
}

// Get implements Store.
func (s *HTTPStore) Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error) {
	resp, err := s.request(ctx, http.MethodGet, key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	return &httpBody{resp.Body}, objectInfo(key, resp), nil
}

// httpBody marks read failures mid-body as transient.
type httpBody struct{ io.ReadCloser }

func (b *httpBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = &transientError{fmt.Errorf("read body: %w", err)}
	}
	return n, err
}

// Stat implements Store.
func (s *HTTPStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	resp, err := s.request(ctx, http.MethodHead, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	resp.Body.Close()
	return objectInfo(key, resp), nil
}

// Put implements Store; it always fails with ErrReadOnly.
func (s *HTTPStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	return fmt.Errorf("put %s in %s: %w", key, s, ErrReadOnly)
}

// List implements Store; HTTP has no listing, so it fails with ErrReadOnly.
func (s *HTTPStore) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	return nil, fmt.Errorf("list %s: %w (an http store cannot be listed)", s, ErrReadOnly)
}
