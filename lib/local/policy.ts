/**
 * IAM-style policy evaluation, pure. The grammar is the seed's: statements with Effect,
 * Action (wildcards `*` and `?`, case-insensitive) and Resource (ARN globs, case-sensitive).
 * Default deny; any matching Allow grants; any matching Deny wins over every Allow. One policy
 * variable is expanded in Resource: `${credentials-iot:ThingName}`; others match literally.
 */
import { invalidArgument } from '../errors.js';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

const asList = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** Whether `seg` (with `?` for any one character) matches `text` at offset `at`. */
function segmentAt(seg: string, text: string, at: number): boolean {
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c !== 0x3f /* ? */ && c !== text.charCodeAt(at + i)) return false;
  }
  return true;
}

/**
 * IAM globs (`*` any run, `?` any one character) without backtracking: the pattern is split at
 * its stars, the first and last pieces are anchored, and each middle piece is placed at its
 * leftmost fit after the previous one (leftmost placement never loses a match). The work is at
 * most pattern length times text length, so no pattern can block the event loop for long, where
 * a regular expression with several `.*` backtracks polynomially in the length of the text.
 */
export function globMatch(pattern: string, text: string): boolean {
  const pieces = pattern.split('*');
  const first = pieces[0] as string;
  if (pieces.length === 1) return first.length === text.length && segmentAt(first, text, 0);
  const last = pieces[pieces.length - 1] as string;
  if (first.length + last.length > text.length) return false;
  if (!segmentAt(first, text, 0) || !segmentAt(last, text, text.length - last.length)) {
    return false;
  }
  let pos = first.length;
  const end = text.length - last.length;
  for (let k = 1; k < pieces.length - 1; k++) {
    const seg = pieces[k] as string;
    let at = pos;
    while (at + seg.length <= end && !segmentAt(seg, text, at)) at++;
    if (at + seg.length > end) return false;
    pos = at + seg.length;
  }
  return true;
}

export function matchAction(pattern: string, action: string): boolean {
  return globMatch(pattern.toLowerCase(), action.toLowerCase());
}

export function matchResource(pattern: string, resource: string): boolean {
  return globMatch(pattern, resource);
}

/**
 * Throws on anything the evaluator would otherwise silently misread. Conditions are refused
 * rather than ignored: ignoring a condition on an Allow would grant more than was written.
 */
export function validatePolicy(doc: unknown): PolicyDocument {
  if (typeof doc !== 'object' || doc === null) throw invalidArgument('policy must be an object');
  const d = doc as Record<string, unknown>;
  if (
    d['Version'] !== undefined &&
    d['Version'] !== '2012-10-17' &&
    d['Version'] !== '2008-10-17'
  ) {
    throw invalidArgument(`unsupported policy Version ${JSON.stringify(d['Version'])}`);
  }
  const stmts = Array.isArray(d['Statement']) ? d['Statement'] : [d['Statement']];
  if (stmts.length === 0 || d['Statement'] === undefined)
    throw invalidArgument('policy has no Statement');
  const isStrList = (v: unknown): boolean =>
    v === undefined ||
    typeof v === 'string' ||
    (Array.isArray(v) && v.every((x) => typeof x === 'string'));
  for (const s of stmts) {
    if (typeof s !== 'object' || s === null) throw invalidArgument('statement must be an object');
    const st = s as Record<string, unknown>;
    if (st['Effect'] !== 'Allow' && st['Effect'] !== 'Deny') {
      throw invalidArgument(
        `statement Effect must be Allow or Deny, got ${JSON.stringify(st['Effect'])}`,
      );
    }
    if ((st['Action'] === undefined) === (st['NotAction'] === undefined)) {
      throw invalidArgument('statement needs exactly one of Action and NotAction');
    }
    if ((st['Resource'] === undefined) === (st['NotResource'] === undefined)) {
      throw invalidArgument('statement needs exactly one of Resource and NotResource');
    }
    for (const k of ['Action', 'NotAction', 'Resource', 'NotResource']) {
      if (!isStrList(st[k]))
        throw invalidArgument(`statement ${k} must be a string or a list of strings`);
    }
    if (st['Condition'] !== undefined) {
      throw invalidArgument('policy Condition blocks are not supported by the local service');
    }
    if (st['Principal'] !== undefined || st['NotPrincipal'] !== undefined) {
      throw invalidArgument('identity policies take no Principal');
    }
  }
  return d as unknown as PolicyDocument;
}

/** The one policy variable the local service expands (AWS IoT's role-alias policies use it). */
export const THING_NAME_VARIABLE = 'credentials-iot:ThingName';
const THING_NAME_RE = /\$\{credentials-iot:ThingName\}/g;

/**
 * A Resource pattern with `${credentials-iot:ThingName}` replaced by its value. Without a
 * value (credentials not issued for a thing) the pattern matches nothing, as IAM treats a
 * variable that is absent from the request; a value with glob characters likewise.
 */
function expand(
  pattern: string,
  vars: Readonly<Record<string, string>> | undefined,
): string | undefined {
  if (!pattern.includes('${')) return pattern;
  THING_NAME_RE.lastIndex = 0;
  if (!THING_NAME_RE.test(pattern)) return pattern;
  const v = vars?.[THING_NAME_VARIABLE];
  if (v === undefined || v === '' || /[*?]/.test(v)) return undefined;
  return pattern.replace(THING_NAME_RE, v);
}

function resourceHit(
  patterns: string[],
  resource: string,
  vars: Readonly<Record<string, string>> | undefined,
): boolean {
  return patterns.some((p) => {
    const e = expand(p, vars);
    return e !== undefined && matchResource(e, resource);
  });
}

function statementMatches(
  s: PolicyStatement,
  action: string,
  resource: string,
  vars: Readonly<Record<string, string>> | undefined,
): boolean {
  const actionHit =
    s.Action !== undefined
      ? asList(s.Action).some((p) => matchAction(p, action))
      : !asList(s.NotAction).some((p) => matchAction(p, action));
  if (!actionHit) return false;
  return s.Resource !== undefined
    ? resourceHit(asList(s.Resource), resource, vars)
    : !resourceHit(asList(s.NotResource), resource, vars);
}

export function evaluate(
  policies: PolicyDocument[],
  action: string,
  resource: string,
  vars?: Readonly<Record<string, string>>,
): Decision {
  let allowed = false;
  for (const p of policies) {
    const stmts = Array.isArray(p.Statement) ? p.Statement : [p.Statement];
    for (const s of stmts) {
      if (!statementMatches(s, action, resource, vars)) continue;
      if (s.Effect === 'Deny') return 'ExplicitDeny';
      allowed = true;
    }
  }
  return allowed ? 'Allow' : 'ImplicitDeny';
}

/** The seed's Example 3: what the default local principal gets. */
export const FULL_ACCESS_POLICY: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'kinesisvideo:*', Resource: '*' }],
};
