/**
 * The programmatic API of @package-notifiers/node-red. Semver applies to everything exported here.
 * (Node-RED loads the nodes from dist/nodes/; this file is the package's `main`.)
 */
export { EVENT_TYPES, EVENT_CODES, normalizeEvent, sampleEvent, resolveEventName, EventValidationError } from './core/events';
export type { NotifierEvent, EventCode, EventTypeInfo, Value, Vars, EventIssue, NormalizeOptions } from './core/events';
export { compileTemplate, renderTemplate, compilePredicate, evaluatePredicate, defaultTemplates, OtterScriptError } from './core/otterscript';
export type { CompiledTemplate, CompiledPredicate, DefaultTemplates, RenderOptions } from './core/otterscript';
/** The record every output node sends as `msg.dispatch` (DESIGN.md, Messages). */
export type { DispatchRecord, DispatchRequest, DispatchResponse, DispatchError, AttemptLogEntry, Channel } from './core/dispatch';
