/**
 * Field constraints from the service model, pure. The AWS SDK validates nothing client-side,
 * so every constraint is checked here and answered with InvalidArgumentException.
 */
import { invalidArgument } from './errors.js';

export const CHANNEL_NAME_RE = /^[a-zA-Z0-9_.-]{1,256}$/;
export const CHANNEL_ARN_RE =
  /^arn:[a-z\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+\/[a-zA-Z0-9_.-]+\/[0-9]+$/;
export const VERSION_RE = /^[a-zA-Z0-9]{1,64}$/;
export const NEXT_TOKEN_RE = /^[a-zA-Z0-9+/=]{0,1024}$/;
export const CLIENT_ID_RE = /^[a-zA-Z0-9_.-]{1,256}$/;
export const CORRELATION_ID_RE = /^[a-zA-Z0-9_.-]{1,256}$/;
// Tag characters: letters, separators, digits and _.:/=+-@ (the model's pattern).
const TAG_RE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export type Json = Record<string, unknown>;

export function asObject(body: unknown): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidArgument('The request body must be a JSON object.');
  }
  return body as Json;
}

export function optString(o: Json, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidArgument(`${key} must be a string.`);
  return v;
}

export function reqString(o: Json, key: string): string {
  const v = optString(o, key);
  if (v === undefined) throw invalidArgument(`${key} is required.`);
  return v;
}

export function optObject(o: Json, key: string): Json | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidArgument(`${key} must be an object.`);
  return v as Json;
}

export function optInt(o: Json, key: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalidArgument(`${key} must be an integer between ${min} and ${max}.`);
  }
  return v;
}

export function checkChannelName(name: string, key = 'ChannelName'): string {
  if (!CHANNEL_NAME_RE.test(name)) {
    throw invalidArgument(
      `${key} must be 1-256 characters of [a-zA-Z0-9_.-], got ${JSON.stringify(name.slice(0, 300))}.`,
    );
  }
  return name;
}

export function checkArn(arn: string, key = 'ChannelARN'): string {
  if (arn.length < 1 || arn.length > 1024 || !CHANNEL_ARN_RE.test(arn)) {
    throw invalidArgument(`${key} is not a valid signaling channel ARN.`);
  }
  return arn;
}

export function checkVersion(v: string, key = 'CurrentVersion'): string {
  if (!VERSION_RE.test(v)) throw invalidArgument(`${key} must be 1-64 characters of [a-zA-Z0-9].`);
  return v;
}

export function checkNextToken(t: string): string {
  if (!NEXT_TOKEN_RE.test(t)) throw invalidArgument('NextToken must match [a-zA-Z0-9+/=]{0,1024}.');
  return t;
}

export function checkClientId(id: string, key = 'ClientId'): string {
  if (!CLIENT_ID_RE.test(id))
    throw invalidArgument(`${key} must be 1-256 characters of [a-zA-Z0-9_.-].`);
  if (id.startsWith('AWS_')) throw invalidArgument(`${key} must not start with AWS_.`);
  return id;
}

/** `SingleMasterConfiguration.MessageTtlSeconds`: 5-120, default 60. */
export function messageTtl(o: Json): number | undefined {
  const cfg = optObject(o, 'SingleMasterConfiguration');
  if (!cfg) return undefined;
  return optInt(cfg, 'MessageTtlSeconds', 5, 120);
}

export function checkTagKey(k: unknown): string {
  if (typeof k !== 'string' || k.length < 1 || k.length > 128 || !TAG_RE.test(k)) {
    throw invalidArgument(
      'Tag keys must be 1-128 characters of letters, digits, spaces and _.:/=+-@.',
    );
  }
  if (k.toLowerCase().startsWith('aws:'))
    throw invalidArgument('Tag keys may not start with aws:.');
  return k;
}

export function checkTagValue(v: unknown): string {
  if (typeof v !== 'string' || v.length > 256 || !TAG_RE.test(v)) {
    throw invalidArgument(
      'Tag values must be 0-256 characters of letters, digits, spaces and _.:/=+-@.',
    );
  }
  return v;
}

/** A `Tags: [{Key, Value}]` list; `min` is 0 for CreateSignalingChannel, 1 for TagResource. */
export function tagList(o: Json, key: string, min: number): Record<string, string> | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (min > 0) throw invalidArgument(`${key} is required.`);
    return undefined;
  }
  if (!Array.isArray(v) || v.length < min || v.length > 50) {
    throw invalidArgument(`${key} must be a list of ${min}-50 tags.`);
  }
  const out: Record<string, string> = {};
  for (const t of v) {
    if (typeof t !== 'object' || t === null)
      throw invalidArgument('Each tag must be {Key, Value}.');
    const tag = t as Json;
    out[checkTagKey(tag['Key'])] = checkTagValue(tag['Value'] ?? '');
  }
  return out;
}

export function tagKeyList(o: Json): string[] {
  const v = o['TagKeyList'];
  if (!Array.isArray(v) || v.length < 1 || v.length > 50) {
    throw invalidArgument('TagKeyList must be a list of 1-50 tag keys.');
  }
  return v.map(checkTagKey);
}
