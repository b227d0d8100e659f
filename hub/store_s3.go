package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Store is a Store over an S3 bucket (AWS S3, MinIO, Ceph, R2, versitygw…)
// through minio-go. Keys are stored under Prefix.
type S3Store struct {
	client *minio.Client
	bucket string
	prefix string // "" or ending in "/"
	endpt  string // for messages
}

// S3Config configures NewS3Store. Empty credentials mean minio-go's chain:
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY(/AWS_SESSION_TOKEN), MINIO_*,
// ~/.aws/credentials, then the instance role.
type S3Config struct {
	Endpoint        string // http://host:port or https://host; empty: https://s3.amazonaws.com
	Region          string
	Bucket, Prefix  string
	AccessKeyID     string
	SecretAccessKey string
	HTTPClient      *http.Client // its Transport is used; nil: a default one
}

// newS3StoreFromURI opens s3://BUCKET/PREFIX with o's endpoint and region.
func newS3StoreFromURI(uri string, o StoreOptions) (*S3Store, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("hub: open store %q: want s3://BUCKET/PREFIX", redactURL(uri))
	}
	cfg := S3Config{
		Endpoint:   o.S3Endpoint,
		Region:     o.S3Region,
		Bucket:     u.Host,
		Prefix:     strings.TrimPrefix(u.Path, "/"),
		HTTPClient: o.HTTPClient,
	}
	return NewS3Store(cfg)
}

// NewS3Store returns a store over cfg.Bucket. It makes no request.
func NewS3Store(cfg S3Config) (*S3Store, error) {
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "https://s3.amazonaws.com"
	}
	eu, err := url.Parse(endpoint)
	if err != nil || (eu.Scheme != "http" && eu.Scheme != "https") || eu.Host == "" {
		return nil, fmt.Errorf("hub: open s3 store: endpoint %q: want http://HOST[:PORT] or https://HOST", redactURL(endpoint))
	}
	var creds *credentials.Credentials
	if cfg.AccessKeyID != "" {
		creds = credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, "")
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.EnvMinio{},
			&credentials.FileAWSCredentials{},
			&credentials.IAM{},
		})
	}
	opts := &minio.Options{
		Creds:      creds,
		Secure:     eu.Scheme == "https",
		Region:     cfg.Region,
		MaxRetries: 1, // the cache retries with its own backoff
	}
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		opts.Transport = cfg.HTTPClient.Transport
	}
	if eu.Host != "s3.amazonaws.com" {
		opts.BucketLookup = minio.BucketLookupPath
	}
	client, err := minio.New(eu.Host, opts)
	if err != nil {
		return nil, fmt.Errorf("hub: open s3 store: %w", err)
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &S3Store{client: client, bucket: cfg.Bucket, prefix: prefix, endpt: eu.Scheme + "://" + eu.Host}, nil
}

func (s *S3Store) String() string {
	return fmt.Sprintf("s3://%s/%s (endpoint %s)", s.bucket, s.prefix, s.endpt)
}

// s3Err maps a minio-go error to the store's sentinels. minio-go's messages
// carry no secrets; the request URL (which may be presigned) is dropped.
func (s *S3Store) s3Err(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s %s: %w", op, key, err)
	}
	er := minio.ToErrorResponse(err)
	switch {
	case accessCodes[er.Code] || er.StatusCode == http.StatusForbidden || er.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%s %s: %w (s3 %s)", op, key, ErrAccessDenied, er.Code)
	case er.Code == "NoSuchKey" || er.Code == "NoSuchBucket" || er.StatusCode == http.StatusNotFound:
		what := key
		if er.Code == "NoSuchBucket" {
			what = "bucket " + s.bucket
		}
		return fmt.Errorf("%s: %w (s3 %s)", what, ErrNotFound, er.Code)
	case er.StatusCode >= 500 || er.StatusCode == http.StatusTooManyRequests || er.Code == "SlowDown":
		return &transientError{fmt.Errorf("%s %s: s3 %s (HTTP %d)", op, key, er.Code, er.StatusCode)}
	case er.StatusCode == 0 || er.Code == "":
		// Not an S3 answer: a network failure.
		return &transientError{fmt.Errorf("%s %s: %w", op, key, unwrapURLError(err))}
	}
	return fmt.Errorf("%s %s: s3 %s (HTTP %d): %s", op, key, er.Code, er.StatusCode, er.Message)
}

// accessCodes are S3 error codes that mean the credentials were refused.
// XAdminUserNotFound is versitygw's answer (with HTTP 404) to an unknown key.
var accessCodes = map[string]bool{
	"AccessDenied": true, "InvalidAccessKeyId": true, "SignatureDoesNotMatch": true,
	"ExpiredToken": true, "InvalidToken": true, "XAdminUserNotFound": true,
}

// Get implements Store.
func (s *S3Store) Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error) {
	if err := validateKey(key); err != nil {
		return nil, ObjectInfo{}, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, ObjectInfo{}, s.s3Err("get", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, ObjectInfo{}, s.s3Err("get", key, err)
	}
	return &s3Body{obj: obj, s: s, key: key}, ObjectInfo{Key: key, Size: st.Size, ModTime: st.LastModified}, nil
}

type s3Body struct {
	obj *minio.Object
	s   *S3Store
	key string
}

func (b *s3Body) Read(p []byte) (int, error) {
	n, err := b.obj.Read(p)
	if err != nil && err != io.EOF {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return n, &transientError{fmt.Errorf("read %s: %w", b.key, err)}
		}
		return n, b.s.s3Err("read", b.key, err)
	}
	return n, err
}

func (b *s3Body) Close() error { return b.obj.Close() }

// Stat implements Store.
func (s *S3Store) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := validateKey(key); err != nil {
		return ObjectInfo{}, err
	}
	st, err := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
	if err != nil {
		return ObjectInfo{}, s.s3Err("stat", key, err)
	}
	return ObjectInfo{Key: key, Size: st.Size, ModTime: st.LastModified}, nil
}

// Put implements Store.
func (s *S3Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := validateKey(key); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, r, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
	})
	return s.s3Err("put", key, err)
}

// List implements Store.
func (s *S3Store) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, s.s3Err("list", prefix, o.Err)
		}
		out = append(out, ObjectInfo{Key: strings.TrimPrefix(o.Key, s.prefix), Size: o.Size, ModTime: o.LastModified})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
