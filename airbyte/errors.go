package airbyte

import (
	"errors"
	"fmt"
)

// Error is an error with an Airbyte failure type. Runners turn it into a TRACE ERROR; any other
// error becomes a system_error.
type Error struct {
	FailureType FailureType
	Message     string // user-facing
	Internal    string // for engineers; optional
	Stream      *StreamDescriptor
	Err         error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" {
		return e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ConfigErrorf is an error the user must fix in config or catalog; the platform does not retry it.
func ConfigErrorf(format string, a ...any) *Error {
	return newError(ConfigError, format, a...)
}

// TransientErrorf is an outage worth retrying.
func TransientErrorf(format string, a ...any) *Error {
	return newError(TransientError, format, a...)
}

// SystemErrorf is a bug or an unexpected condition.
func SystemErrorf(format string, a ...any) *Error {
	return newError(SystemError, format, a...)
}

func newError(t FailureType, format string, a ...any) *Error {
	err := fmt.Errorf(format, a...)
	return &Error{FailureType: t, Message: err.Error(), Err: errors.Unwrap(err)}
}

// WithStream attaches the stream the error belongs to.
func (e *Error) WithStream(d StreamDescriptor) *Error {
	e.Stream = &d
	return e
}

// AsError classifies any error: an *Error in its chain is returned as is, anything else becomes
// a system_error carrying the error text.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.Message == "" {
			e.Message = err.Error()
		}
		if e.FailureType == "" {
			e.FailureType = SystemError
		}
		return e
	}
	return &Error{FailureType: SystemError, Message: err.Error(), Err: err}
}
