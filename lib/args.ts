/**
 * Helpers for checking what JavaScript callers pass: any value, including ones that throw
 * when read or printed (getters, proxies, bigint, symbols, objects without a prototype).
 * Validation messages use `describeValue`, which never throws and never copies a 10 MB
 * string into a message; `readFields` reads the fields of an options object once, turning a
 * getter that throws into a KvsError that names the field.
 */
import { KvsError } from './errors.js';

const MAX_SHOWN = 60;

/** A short, safe description of `value` for an error message ("got ..."). */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string': {
      if (value.length <= MAX_SHOWN) return JSON.stringify(value);
      const shown = JSON.stringify(value.slice(0, MAX_SHOWN));
      return `${shown.slice(0, -1)}..." (${value.length} characters)`;
    }
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `${value.toString()}n (a bigint)`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      if (value === null) return 'null';
      try {
        return Array.isArray(value) ? `an array of ${value.length}` : 'an object';
      } catch {
        return 'an object'; // a revoked proxy
      }
  }
}

/**
 * Reads the listed fields of a caller's options object once (through getters and the
 * prototype chain, as plain property access does) into a plain object; values are kept as
 * they are (nested objects are not copied). A getter or proxy trap that throws becomes
 * ERR_INVALID_ARGUMENT naming `${what}.${key}`. `undefined` stays undefined; anything but an
 * object is refused.
 */
export function readFields<K extends string>(
  value: unknown,
  what: string,
  keys: readonly K[],
): Partial<Record<K, unknown>> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `${what} must be an object, got ${describeValue(value)}`,
    );
  }
  const out: Partial<Record<K, unknown>> = {};
  for (const key of keys) {
    let v: unknown;
    try {
      v = (value as Record<string, unknown>)[key];
    } catch (e) {
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `${what}.${key} could not be read: ${messageOf(e)}`,
        {
          cause: e,
        },
      );
    }
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function messageOf(e: unknown): string {
  try {
    return e instanceof Error ? e.message : describeValue(e);
  } catch {
    return 'it threw';
  }
}

/** The longest delay Node's timers take (2^31 - 1 ms); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Throws ERR_INVALID_ARGUMENT unless `value` is an instance of `type` (named `typeName`). */
export function checkInstance<T>(
  value: unknown,
  type: abstract new (...args: never[]) => T,
  what: string,
  typeName: string,
): T {
  if (!(value instanceof type)) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `${what} must be a ${typeName}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Throws ERR_INVALID_ARGUMENT unless `value` is a Map (a stats report is one). */
export function checkMap(value: unknown, what: string): void {
  if (!(value instanceof Map)) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `${what} must be a Map, got ${describeValue(value)}`,
    );
  }
}

/** Throws ERR_INVALID_ARGUMENT unless `value` is a function. */
export function checkFunction(value: unknown, what: string): void {
  if (typeof value !== 'function') {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `${what} must be a function, got ${describeValue(value)}`,
    );
  }
}

/** The error for a `signal` argument that is neither undefined nor an AbortSignal. */
export function signalError(value: unknown, what: string): KvsError | undefined {
  if (value === undefined || value instanceof AbortSignal) return undefined;
  return new KvsError(
    'ERR_INVALID_ARGUMENT',
    `${what}: signal must be an AbortSignal, got ${describeValue(value)}`,
  );
}

/** Throws ERR_INVALID_ARGUMENT unless `value` is undefined or an AbortSignal. */
export function checkSignal(value: unknown, what: string): void {
  const err = signalError(value, what);
  if (err) throw err;
}

/**
 * A number option: undefined gives `fallback`; otherwise it must be a number in min..max
 * (an integer when asked), or ERR_INVALID_ARGUMENT names `name` and the range.
 */
export function checkNumber(
  value: unknown,
  name: string,
  range: { min: number; max: number; integer?: boolean },
): number | undefined {
  if (value === undefined) return undefined;
  const ok =
    typeof value === 'number' &&
    (range.integer ? Number.isInteger(value) : Number.isFinite(value)) &&
    value >= range.min &&
    value <= range.max;
  if (!ok) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `${name} must be ${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}, got ${describeValue(value)}`,
    );
  }
  return value;
}
