// notifier-condition: ProGet's Conditions tab as a node. The feed filter and every mode but
// `jsonata` are the core's (src/core/conditions); this adapter compiles the configuration at deploy,
// routes each msg.event to the matched output (or the "not matched" one when there are two), keeps
// pass/block counts in the status, and sends run-time errors to Catch nodes (done(err)).
import { ConditionConfigError, compileCondition, describeEventProblem } from '../core/conditions';
import type { CompiledCondition } from '../core/conditions';
import type { NotifierEvent } from '../core/events';
import { OtterScriptError } from '../core/otterscript';
import { registerPreviewRoute } from './shared/preview-route';

import type { JSONataExpression, Node, NodeMessage, NodeRED as RED, NodeSend } from './shared/node-red';
type Done = (err?: Error) => void;
type Send = NodeSend;

interface ConditionNodeConfig {
  id: string;
  name?: string;
  feeds?: string;
  mode?: string;
  packageName?: string;
  packageVersion?: string;
  minScore?: string | number;
  minSeverity?: string;
  expression?: string;
  jsonata?: string;
  outputs?: string | number;
}

/** Shortest interval between two status updates while messages flow. */
const STATUS_INTERVAL_MS = 250;

function configProblem(err: unknown): string {
  if (err instanceof OtterScriptError) return `expression: ${err.message}\n${err.excerpt}`;
  if (err instanceof ConditionConfigError) return err.message;
  return (err as Error)?.message ?? String(err);
}

export = function register(RED: RED): void {
  registerPreviewRoute(RED);

  function NotifierConditionNode(this: Node, config: ConditionNodeConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const outputs = Number(config.outputs) === 2 ? 2 : 1;
    const counts = { passed: 0, blocked: 0, errors: 0 };
    let condition: CompiledCondition | undefined;
    let jsonataExpr: JSONataExpression | undefined;
    let invalid: string | undefined;

    try {
      condition = compileCondition({
        feeds: config.feeds,
        mode: config.mode,
        packageName: config.packageName,
        packageVersion: config.packageVersion,
        minScore: config.minScore,
        minSeverity: config.minSeverity,
        expression: config.expression,
      });
      if (condition.mode === 'jsonata') {
        const expr = typeof config.jsonata === 'string' ? config.jsonata.trim() : '';
        if (!expr) throw new ConditionConfigError('jsonata', 'write a JSONata expression over the message, e.g. msg.event.vars.VulnerabilitySeverity = "Critical"');
        try {
          jsonataExpr = RED.util.prepareJSONataExpression(expr, node);
        } catch (err) {
          throw new ConditionConfigError('jsonata', `invalid JSONata expression: ${(err as Error)?.message ?? String(err)}`);
        }
      }
    } catch (err) {
      invalid = configProblem(err);
      node.error(`notifier-condition: invalid configuration: ${invalid}`);
      node.status({ fill: 'red', shape: 'ring', text: `invalid ${err instanceof OtterScriptError ? 'expression' : (err as ConditionConfigError).property ?? 'config'}` });
    }

    let statusTimer: NodeJS.Timeout | undefined;
    let lastStatus = 0;
    function showCounts(): void {
      statusTimer = undefined;
      lastStatus = Date.now();
      const text = `${counts.passed} passed, ${counts.blocked} blocked` + (counts.errors ? `, ${counts.errors} errors` : '');
      node.status({ fill: counts.errors ? 'yellow' : 'green', shape: 'dot', text });
    }
    function updateStatus(): void {
      if (statusTimer) return;
      const wait = STATUS_INTERVAL_MS - (Date.now() - lastStatus);
      if (wait <= 0) showCounts();
      else statusTimer = setTimeout(showCounts, wait);
    }
    if (!invalid) node.status({ fill: 'grey', shape: 'ring', text: condition!.label.length > 30 ? condition!.label.slice(0, 29) + '…' : condition!.label });

    function route(msg: NodeMessage, pass: boolean, send: Send, done: Done): void {
      if (pass) {
        counts.passed++;
        send(outputs === 2 ? [msg, null] : msg);
      } else {
        counts.blocked++;
        if (outputs === 2) send([null, msg]);
      }
      updateStatus();
      done();
    }

    function fail(err: unknown, done: Done): void {
      counts.errors++;
      updateStatus();
      const e = err instanceof OtterScriptError
        ? Object.assign(new Error(`notifier-condition: expression failed: ${err.message}`), { line: err.line, column: err.column, excerpt: err.excerpt })
        : err instanceof Error
          ? err
          : new Error(String(err));
      done(e);
    }

    node.on('input', (msg: NodeMessage, send: Send, done: Done) => {
      try {
        if (invalid || !condition) {
          done(new Error(`notifier-condition: not evaluated, the configuration is invalid: ${invalid}`));
          return;
        }
        const problem = describeEventProblem(msg?.event);
        if (problem) {
          done(new Error(`notifier-condition: ${problem}`));
          return;
        }
        const event = msg.event as NotifierEvent;
        if (!condition.feedFilter.passes(event)) {
          route(msg, false, send, done);
          return;
        }
        if (condition.mode === 'jsonata') {
          RED.util.evaluateJSONataExpression(jsonataExpr!, msg, (err: unknown, value: unknown) => {
            try {
              // eslint-disable-next-line @typescript-eslint/no-base-to-string -- JSONata's errors are objects with a message; anything else as String() renders it
              if (err) fail(new Error(`notifier-condition: JSONata expression failed: ${(err as Error)?.message ?? String(err)}`), done);
              else route(msg, Boolean(value), send, done);
            } catch (e) {
              fail(e, done);
            }
          });
          return;
        }
        route(msg, condition.test ? condition.test(event) : true, send, done);
      } catch (err) {
        fail(err, done);
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      done();
    });
  }

  RED.nodes.registerType('notifier-condition', NotifierConditionNode);
};
