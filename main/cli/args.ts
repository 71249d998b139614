// The one argument parser every command uses. node:util parseArgs refuses `--alpha -1.5` ("argument
// is ambiguous"), so this is ours. Rules, the same for every command:
//   --flag value | --flag=value     a value may start with '-' (negative numbers: --alpha -1.5)
//   --flag | --flag=true|false      for switches
//   repeated flags                  a list flag accumulates (--alphas -2,-1 --alphas 0 → -2,-1,0);
//                                   any other flag: the last one wins
//   --                              ends the flags; everything after is positional
// Every value is checked here, before any model or library is opened; a bad one gets one line
// naming the flag, the value and what it accepts.
import { StudioError } from '../core/errors.ts';

export type FlagSpec =
  | { kind: 'switch' }
  | { kind: 'string'; nonEmpty?: boolean }
  | { kind: 'number'; int?: boolean; min?: number; max?: number; gt?: number }
  | { kind: 'numbers'; int?: boolean; min?: number; max?: number }
  /** A repeatable string flag: every occurrence adds one value (--persona a --persona b=0.5). */
  | { kind: 'strings' }
  | { kind: 'choice'; choices: readonly string[] };

export type FlagSpecs = Record<string, FlagSpec>;

type ValueOf<S extends FlagSpec> = S extends { kind: 'switch' }
  ? boolean
  : S extends { kind: 'numbers' }
    ? number[]
    : S extends { kind: 'strings' }
      ? string[]
      : S extends { kind: 'number' }
        ? number
        : S extends { kind: 'choice'; choices: readonly (infer C)[] }
          ? C
          : string;

export type Flags<T extends FlagSpecs> = { [K in keyof T]?: ValueOf<T[K]> };
export interface Parsed<T extends FlagSpecs> {
  flags: Flags<T>;
  positionals: string[];
}

const usage = (message: string) => new StudioError('usage', message);

/** Shows a value in a message on one line, whatever it holds (control characters, huge strings). */
export function showValue(v: string): string {
  const short = v.length > 40 ? `${v.slice(0, 37)}...` : v;
  return /^[\w.,:/+-]+$/.test(short) ? short : JSON.stringify(short);
}

/** "from 0 to 1", "at least 1", "an integer"… — what a numeric flag accepts. */
export function describeRange(s: { int?: boolean; min?: number; max?: number; gt?: number }): string {
  const what = s.int ? 'an integer' : 'a number';
  if (s.min !== undefined && s.max !== undefined) return `${what} from ${s.min} to ${s.max}`;
  if (s.gt !== undefined && s.max !== undefined) return `${what} above ${s.gt}, at most ${s.max}`;
  if (s.gt !== undefined) return `${what} above ${s.gt}`;
  if (s.min !== undefined) return `${what} of at least ${s.min}`;
  if (s.max !== undefined) return `${what} of at most ${s.max}`;
  return what;
}

function parseNumber(flag: string, raw: string, s: { int?: boolean; min?: number; max?: number; gt?: number }): number {
  const t = raw.trim();
  // Number('') is 0 and Number('0x10') is 16: accept only plain decimal notation.
  const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : NaN;
  const ok =
    Number.isFinite(n) &&
    (!s.int || Number.isSafeInteger(n)) &&
    (s.min === undefined || n >= s.min) &&
    (s.max === undefined || n <= s.max) &&
    (s.gt === undefined || n > s.gt);
  if (!ok) throw usage(`--${flag} ${showValue(raw)}: expected ${describeRange(s)}`);
  return n;
}

function convert(flag: string, spec: FlagSpec, raw: string): unknown {
  switch (spec.kind) {
    case 'switch':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw usage(`--${flag}=${showValue(raw)}: a switch takes no value (or =true / =false)`);
    case 'string':
      if (spec.nonEmpty && raw.trim() === '') throw usage(`--${flag}: expected a non-empty value`);
      return raw;
    case 'number':
      return parseNumber(flag, raw, spec);
    case 'numbers':
      return raw.split(',').map((part) => {
        if (part.trim() === '')
          throw usage(`--${flag} ${showValue(raw)}: expected a comma-separated list of ${describeRange(spec).replace(/^an? /, '')}s`);
        return parseNumber(flag, part, spec);
      });
    case 'strings':
      if (raw.trim() === '') throw usage(`--${flag}: expected a non-empty value`);
      return [raw];
    case 'choice':
      if (!spec.choices.includes(raw)) throw usage(`--${flag} ${showValue(raw)}: expected one of ${spec.choices.join(', ')}`);
      return raw;
  }
}

export function parseArgs<T extends FlagSpecs>(args: readonly string[], specs: T, command: string): Parsed<T> {
  const flags: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-' || /^-\d/.test(a)) {
      positionals.push(a);
      continue;
    }
    if (!a.startsWith('--')) throw usage(`${command}: unknown flag ${showValue(a)} (flags are spelled --name; see persona-studio help)`);
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) throw usage(`${command}: unknown flag --${showValue(name)} (see persona-studio help)`);
    let raw: string;
    if (eq >= 0) raw = a.slice(eq + 1);
    else if (spec.kind === 'switch') raw = 'true';
    else {
      if (i + 1 >= args.length) throw usage(`--${name}: needs a value`);
      raw = args[++i]!;
    }
    const value = convert(name, spec, raw);
    const listKind = spec.kind === 'numbers' || spec.kind === 'strings';
    flags[name] = listKind && Array.isArray(flags[name]) ? [...(flags[name] as unknown[]), ...(value as unknown[])] : value;
  }
  return { flags: flags as Flags<T>, positionals };
}

/** Exactly `n` positionals, else one line saying what was expected. */
export function expectPositionals(p: string[], n: number, command: string, what: string): string[] {
  if (p.length !== n) throw usage(`${command}: expected ${what}${p.length > n ? `, got extra ${showValue(p[n]!)}` : ''}`);
  return p;
}
