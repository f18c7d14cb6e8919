/**
 * The delivery engine and everything output nodes share: policy, clock, HTTP transport, dispatcher.
 * See engine.ts (the policy around one job) and dispatcher.ts (event → record, and how a channel plugs in).
 */
export { systemClock, ManualClock } from './clock';
export type { Clock, TimerHandle } from './clock';
export {
  DEFAULT_POLICY,
  POLICY_LIMITS,
  RETRYABLE_STATUSES,
  RETRYABLE_ERROR_CODES,
  resolvePolicy,
  backoffDelay,
  parseRetryAfter,
  classifyStatus,
  describeErrorCode,
} from './policy';
export type { RetryPolicy, StatusClass } from './policy';
export { DeliveryEngine, DEFAULT_LANE, DEFAULT_CLOSE_GRACE_MS, classifyThrown } from './engine';
export type {
  AttemptContext,
  AttemptResult,
  AttemptFn,
  DeliveryJob,
  DeliveryOutcome,
  EngineEvent,
  EngineOptions,
  EngineStats,
  LaneOptions,
  RetryState,
  SharedGate,
} from './engine';
export {
  HttpTransport,
  HttpTransportError,
  USER_AGENT,
  DEFAULT_MAX_RESPONSE_BYTES,
  classifyHttpResponse,
  classifyTransportError,
  httpAttempt,
  responseOf,
} from './http';
export type { HttpRequest, HttpResponse, HttpTransportOptions, ProxySettings, TlsSettings } from './http';
export { Dispatcher, PrepareError, failedRecord, prepareErrorOf, redactRequest, redactResponse } from './dispatcher';
export type { ChannelDriver, PreparedDispatch, PrepareContext, DispatcherOptions, DispatchOptions } from './dispatcher';
export { statusText, STATUS_MAX_CHARS } from './status';
export type { NodeStatus } from './status';
export { ConfigError, numberProperty, choiceProperty, textProperty, checkHttpUrl } from './config';
export type { NumberSpec } from './config';
export {
  EgressPolicy,
  EgressDeniedError,
  EGRESS_DENIED,
  DEFAULT_EGRESS_DENY,
  proxyForUrl,
  literalOrigin,
  parseAllowedHosts,
  hostAllowed,
} from './egress';
export type { EgressSettings } from './egress';
