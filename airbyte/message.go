// Package airbyte implements the Airbyte protocol (v0.18 of airbyte_protocol.yaml) for connectors
// written in Go: the messages, the configured catalog, the single stdout writer, and one runner each
// for sources and destinations.
package airbyte

import (
	"encoding/json"
	"strconv"
)

// Type is the discriminator of a Message.
type Type string

// Message types.
const (
	TypeRecord             Type = "RECORD"
	TypeState              Type = "STATE"
	TypeLog                Type = "LOG"
	TypeSpec               Type = "SPEC"
	TypeConnectionStatus   Type = "CONNECTION_STATUS"
	TypeCatalog            Type = "CATALOG"
	TypeTrace              Type = "TRACE"
	TypeControl            Type = "CONTROL"
	TypeDestinationCatalog Type = "DESTINATION_CATALOG"
)

// Message is one line of the protocol. Exactly one payload matching Type is set.
type Message struct {
	Type             Type              `json:"type"`
	Log              *Log              `json:"log,omitempty"`
	Spec             *Spec             `json:"spec,omitempty"`
	ConnectionStatus *ConnectionStatus `json:"connectionStatus,omitempty"`
	Catalog          *Catalog          `json:"catalog,omitempty"`
	Record           *Record           `json:"record,omitempty"`
	State            *State            `json:"state,omitempty"`
	Trace            *Trace            `json:"trace,omitempty"`
	Control          *Control          `json:"control,omitempty"`
}

// Record is a RECORD payload. Data is kept raw so large integers and key order survive.
type Record struct {
	Stream    string          `json:"stream"`
	Namespace string          `json:"namespace,omitempty"`
	Data      json.RawMessage `json:"data"`
	EmittedAt int64           `json:"emitted_at"`
	Meta      *RecordMeta     `json:"meta,omitempty"`
}

// RecordMeta carries the changes a connector made to a record.
type RecordMeta struct {
	Changes []Change `json:"changes"`
}

// Change describes one field a connector altered.
type Change struct {
	Field  string       `json:"field"`
	Change ChangeType   `json:"change"`
	Reason ChangeReason `json:"reason"`
}

// ChangeType is what happened to a field.
type ChangeType string

// Change types.
const (
	ChangeNulled    ChangeType = "NULLED"
	ChangeTruncated ChangeType = "TRUNCATED"
)

// ChangeReason is why a field was changed.
type ChangeReason string

// Change reasons used by our connectors (the protocol defines more; any string round-trips).
const (
	ReasonSourceSerializationError      ChangeReason = "SOURCE_SERIALIZATION_ERROR"
	ReasonSourceRetrievalError          ChangeReason = "SOURCE_RETRIEVAL_ERROR"
	ReasonDestinationTypecastError      ChangeReason = "DESTINATION_TYPECAST_ERROR"
	ReasonDestinationFieldSizeLimit     ChangeReason = "DESTINATION_FIELD_SIZE_LIMITATION"
	ReasonDestinationRecordSizeLimit    ChangeReason = "DESTINATION_RECORD_SIZE_LIMITATION"
	ReasonDestinationSerializationError ChangeReason = "DESTINATION_SERIALIZATION_ERROR"
)

// StateType is the kind of a STATE message.
type StateType string

// State types. Sources here emit only STREAM.
const (
	StateStream StateType = "STREAM"
	StateGlobal StateType = "GLOBAL"
	StateLegacy StateType = "LEGACY"
)

// State is a STATE payload.
type State struct {
	Type             StateType       `json:"type,omitempty"`
	Stream           *StreamState    `json:"stream,omitempty"`
	Global           *GlobalState    `json:"global,omitempty"`
	Data             json.RawMessage `json:"data,omitempty"`
	SourceStats      *Stats          `json:"sourceStats,omitempty"`
	DestinationStats *Stats          `json:"destinationStats,omitempty"`
}

// StreamState is the state of one stream; StreamState nil (JSON null) resets the stream.
type StreamState struct {
	StreamDescriptor StreamDescriptor `json:"stream_descriptor"`
	StreamState      json.RawMessage  `json:"stream_state"`
}

// GlobalState is a state shared by all streams (CDC); parsed on input, never emitted by our source.
type GlobalState struct {
	SharedState  json.RawMessage `json:"shared_state,omitempty"`
	StreamStates []StreamState   `json:"stream_states"`
}

// StreamDescriptor names a stream. An empty Namespace is omitted: the platform treats "" and null as different.
type StreamDescriptor struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// String renders "namespace.name" or "name".
func (d StreamDescriptor) String() string {
	if d.Namespace == "" {
		return d.Name
	}
	return d.Namespace + "." + d.Name
}

// Stats are the record counts attached to a STATE.
type Stats struct {
	RecordCount         *Count `json:"recordCount,omitempty"`
	RejectedRecordCount *Count `json:"rejectedRecordCount,omitempty"`
}

// Count is a record count. The protocol types it as a double and the platform expects a decimal
// point, so it always marshals as e.g. 2.0.
type Count float64

// MarshalJSON writes the count with a decimal point.
func (c Count) MarshalJSON() ([]byte, error) {
	return appendCount(nil, float64(c)), nil
}

// NewCount returns a pointer to n as a Count.
func NewCount(n int64) *Count {
	c := Count(n)
	return &c
}

func appendCount(b []byte, f float64) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	for _, ch := range b[start:] {
		if ch == '.' {
			return b
		}
	}
	return append(b, '.', '0')
}

// LogLevel is the level of a LOG message.
type LogLevel string

// Log levels.
const (
	LogFatal LogLevel = "FATAL"
	LogError LogLevel = "ERROR"
	LogWarn  LogLevel = "WARN"
	LogInfo  LogLevel = "INFO"
	LogDebug LogLevel = "DEBUG"
	LogTrace LogLevel = "TRACE"
)

// Log is a LOG payload.
type Log struct {
	Level      LogLevel `json:"level"`
	Message    string   `json:"message"`
	StackTrace string   `json:"stack_trace,omitempty"`
}

// Spec is a SPEC payload (ConnectorSpecification).
type Spec struct {
	DocumentationURL              string                `json:"documentationUrl,omitempty"`
	ChangelogURL                  string                `json:"changelogUrl,omitempty"`
	ConnectionSpecification       json.RawMessage       `json:"connectionSpecification"`
	SupportsIncremental           bool                  `json:"supportsIncremental,omitempty"`
	SupportedDestinationSyncModes []DestinationSyncMode `json:"supported_destination_sync_modes,omitempty"`
	ProtocolVersion               string                `json:"protocol_version,omitempty"`
}

// ConnectionStatusValue is the result of check.
type ConnectionStatusValue string

// Connection statuses.
const (
	StatusSucceeded ConnectionStatusValue = "SUCCEEDED"
	StatusFailed    ConnectionStatusValue = "FAILED"
)

// ConnectionStatus is a CONNECTION_STATUS payload.
type ConnectionStatus struct {
	Status  ConnectionStatusValue `json:"status"`
	Message string                `json:"message,omitempty"`
}

// Succeeded and Failed build check results.
func Succeeded(msg string) *ConnectionStatus {
	return &ConnectionStatus{Status: StatusSucceeded, Message: msg}
}

// Failed builds a FAILED check result with a user-facing reason.
func Failed(msg string) *ConnectionStatus {
	return &ConnectionStatus{Status: StatusFailed, Message: msg}
}

// Catalog is a CATALOG payload.
type Catalog struct {
	Streams []Stream `json:"streams"`
}

// SyncMode is how a source reads a stream.
type SyncMode string

// Sync modes.
const (
	FullRefresh SyncMode = "full_refresh"
	Incremental SyncMode = "incremental"
)

// DestinationSyncMode is how a destination writes a stream.
type DestinationSyncMode string

// Destination sync modes.
const (
	Append         DestinationSyncMode = "append"
	Overwrite      DestinationSyncMode = "overwrite"
	AppendDedup    DestinationSyncMode = "append_dedup"
	Update         DestinationSyncMode = "update"
	SoftDelete     DestinationSyncMode = "soft_delete"
	OverwriteDedup DestinationSyncMode = "overwrite_dedup"
)

// Stream is an AirbyteStream.
type Stream struct {
	Name                    string          `json:"name"`
	Namespace               string          `json:"namespace,omitempty"`
	JSONSchema              json.RawMessage `json:"json_schema"`
	SupportedSyncModes      []SyncMode      `json:"supported_sync_modes"`
	SourceDefinedCursor     bool            `json:"source_defined_cursor,omitempty"`
	DefaultCursorField      []string        `json:"default_cursor_field,omitempty"`
	SourceDefinedPrimaryKey [][]string      `json:"source_defined_primary_key,omitempty"`
	IsResumable             *bool           `json:"is_resumable,omitempty"`
}

// Descriptor returns the stream's name and namespace.
func (s *Stream) Descriptor() StreamDescriptor {
	return StreamDescriptor{Name: s.Name, Namespace: s.Namespace}
}

// TraceType is the kind of a TRACE message.
type TraceType string

// Trace types.
const (
	TraceError        TraceType = "ERROR"
	TraceEstimate     TraceType = "ESTIMATE"
	TraceStreamStatus TraceType = "STREAM_STATUS"
	TraceAnalytics    TraceType = "ANALYTICS"
)

// Trace is a TRACE payload.
type Trace struct {
	Type         TraceType          `json:"type"`
	EmittedAt    float64            `json:"emitted_at"`
	Error        *ErrorTrace        `json:"error,omitempty"`
	Estimate     *EstimateTrace     `json:"estimate,omitempty"`
	StreamStatus *StreamStatusTrace `json:"stream_status,omitempty"`
	Analytics    *AnalyticsTrace    `json:"analytics,omitempty"`
}

// FailureType drives the platform's retry decision.
type FailureType string

// Failure types.
const (
	SystemError    FailureType = "system_error"
	ConfigError    FailureType = "config_error"
	TransientError FailureType = "transient_error"
)

// ErrorTrace is a TRACE ERROR payload.
type ErrorTrace struct {
	Message          string            `json:"message"`
	InternalMessage  string            `json:"internal_message,omitempty"`
	StackTrace       string            `json:"stack_trace,omitempty"`
	FailureType      FailureType       `json:"failure_type,omitempty"`
	StreamDescriptor *StreamDescriptor `json:"stream_descriptor,omitempty"`
}

// EstimateType is the scope of an estimate.
type EstimateType string

// Estimate scopes.
const (
	EstimateStream EstimateType = "STREAM"
	EstimateSync   EstimateType = "SYNC"
)

// EstimateTrace is a TRACE ESTIMATE payload.
type EstimateTrace struct {
	Name         string       `json:"name"`
	Type         EstimateType `json:"type"`
	Namespace    string       `json:"namespace,omitempty"`
	RowEstimate  *int64       `json:"row_estimate,omitempty"`
	ByteEstimate *int64       `json:"byte_estimate,omitempty"`
}

// StreamStatus is the lifecycle status of a stream.
type StreamStatus string

// Stream statuses.
const (
	StatusStarted    StreamStatus = "STARTED"
	StatusRunning    StreamStatus = "RUNNING"
	StatusComplete   StreamStatus = "COMPLETE"
	StatusIncomplete StreamStatus = "INCOMPLETE"
)

// StreamStatusTrace is a TRACE STREAM_STATUS payload.
type StreamStatusTrace struct {
	StreamDescriptor StreamDescriptor     `json:"stream_descriptor"`
	Status           StreamStatus         `json:"status"`
	Reasons          []StreamStatusReason `json:"reasons,omitempty"`
}

// StreamStatusReason explains a RUNNING status; only RATE_LIMITED exists in the protocol.
type StreamStatusReason struct {
	Type        string       `json:"type"`
	RateLimited *RateLimited `json:"rate_limited,omitempty"`
}

// RateLimited tells when the quota is expected to reset, in epoch milliseconds.
type RateLimited struct {
	QuotaReset int64 `json:"quota_reset,omitempty"`
}

// RateLimitedReason builds the RATE_LIMITED reason.
func RateLimitedReason(quotaResetMs int64) StreamStatusReason {
	return StreamStatusReason{Type: "RATE_LIMITED", RateLimited: &RateLimited{QuotaReset: quotaResetMs}}
}

// AnalyticsTrace is a TRACE ANALYTICS payload.
type AnalyticsTrace struct {
	Type  string `json:"type"`
	Value string `json:"value,omitempty"`
}

// Control is a CONTROL payload; the only kind is CONNECTOR_CONFIG.
type Control struct {
	Type            string           `json:"type"`
	EmittedAt       float64          `json:"emitted_at"`
	ConnectorConfig *ConnectorConfig `json:"connectorConfig,omitempty"`
}

// ConnectorConfig carries a full new connector config for the platform to persist.
type ConnectorConfig struct {
	Config json.RawMessage `json:"config"`
}
