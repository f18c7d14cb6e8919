/**
 * What the channels need from the OtterScript engine, as an interface: the nodes pass the real engine
 * (`compileTemplate`, `defaultTemplates` from core/otterscript), tests may pass their own.
 * Templates compile once, at deploy; a template error at render time throws (an `OtterScriptError`,
 * which the dispatcher records as code `template`).
 */
import type { EventCode, Vars } from '../events';
import type { DefaultTemplates } from '../otterscript/defaults';
import type { OutputEscaper } from '../otterscript';

export type { DefaultTemplates };
export type Template = (vars: Vars) => string;

export interface TemplateKit {
  /** Compiles a template; with `escape`, every value it outputs is escaped for the channel (channels/escape.ts). */
  compile(source: string, options?: { escape?: OutputEscaper }): Template;
  defaults(code: EventCode): DefaultTemplates;
}

/** True when a text uses OtterScript (variables, functions or template tags); a plain text renders as itself. */
export function usesTemplate(source: string): boolean {
  return /[$@%]|<%|`/.test(source);
}

/** Compiles each event type's default template once, on first use. */
export class DefaultTemplateCache<K extends string> {
  private readonly cache = new Map<string, Template>();
  constructor(
    private readonly kit: TemplateKit,
    private readonly pick: (d: DefaultTemplates) => Record<K, string>,
    private readonly escape?: (part: K) => OutputEscaper | undefined,
  ) {}

  get(code: EventCode, part: K): Template {
    const key = `${code}\u0000${part}`;
    let t = this.cache.get(key);
    if (!t) {
      const escape = this.escape?.(part);
      t = this.kit.compile(this.pick(this.kit.defaults(code))[part], escape ? { escape } : undefined);
      this.cache.set(key, t);
    }
    return t;
  }
}
