package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// apiError is an error with the HTTP status it maps to.
type apiError struct {
	status int
	msg    string
	// retryAfter, in seconds, is sent as Retry-After when positive.
	retryAfter int
	// cause, when set, is the error the message describes, for callers
	// (errors.Is, errors.As); it is not sent.
	cause error
}

func (e *apiError) Error() string { return e.msg }

func (e *apiError) Unwrap() error { return e.cause }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// retryAfterSeconds is the Retry-After, in whole seconds (at least 1), of
// an error that says when to retry (a RetryAfter() time.Duration method
// anywhere in its chain, as a Catalog's Load error may have), else 0.
func retryAfterSeconds(err error) int {
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) {
		return 0
	}
	return max(1, int((ra.RetryAfter()+time.Second-1)/time.Second))
}

// errQueueFull is returned when a model's batching queue is full.
var errQueueFull = &apiError{status: http.StatusServiceUnavailable, msg: "server busy: queue full, retry later", retryAfter: 1}

// writeError writes err as {"error": "..."} with the status it maps to.
// Errors that are not API errors are internal: they are logged by the
// caller and reported as 500 without detail.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, msg: "internal error"}
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	// A safety net: the messages clip what they echo of the request.
	writeJSON(w, ae.status, map[string]string{"error": clipTo(ae.msg, maxMessage)})
}

// maxMessage is the longest error message sent.
const maxMessage = 1024

// maxEcho is the most bytes of client input an error message or log line
// repeats.
const maxEcho = 64

// clip returns s cut to maxEcho bytes (on a rune boundary), marked with an
// ellipsis when cut, for echoing client input in errors and logs.
func clip(s string) string { return clipTo(s, maxEcho) }

// clipTo returns s cut to n bytes on a rune boundary, marked with an
// ellipsis when cut.
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // the client may have gone; nothing to do about it
}
