/**
 * The endpoint cache: DESCRIBE and GET_ENDPOINT results per channel, role and region (and
 * control endpoint, so a local service and the real one never share an entry), valid for
 * 10 hours, at most 32 entries — the C SDK's semantics. In memory by default; optionally a
 * CSV file, one line per entry, written atomically, so a restarted device reconnects without
 * control-plane calls.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkFunction, checkNumber, describeValue, readFields } from '../args.js';
import { invalidArgument } from '../errors.js';

export const ENDPOINT_CACHE_TTL_MS = 10 * 60 * 60_000;
export const ENDPOINT_CACHE_MAX_ENTRIES = 32;

export interface EndpointCacheKey {
  /** The channel as the caller named it: its name or its ARN. */
  channel: string;
  role: 'MASTER' | 'VIEWER';
  region: string;
  /** The control-plane endpoint override; '' for the real service's default. */
  controlEndpoint: string;
}

export interface EndpointCacheEntry extends EndpointCacheKey {
  channelArn: string;
  wssEndpoint: string;
  httpsEndpoint: string;
  /** When the entry was stored (ms since the epoch). */
  cachedAt: number;
}

export interface EndpointCache {
  get(key: EndpointCacheKey): EndpointCacheEntry | undefined;
  set(entry: EndpointCacheEntry): void;
  delete(key: EndpointCacheKey): void;
}

export interface EndpointCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

const KEY_FIELDS = ['channel', 'role', 'region', 'controlEndpoint'] as const;
const ENTRY_FIELDS = [...KEY_FIELDS, 'channelArn', 'wssEndpoint', 'httpsEndpoint'] as const;

/** The fields as strings; entries also without commas or line breaks (the file is CSV). */
function checkFields(value: unknown, what: string, fields: readonly string[]): void {
  const raw = readFields(value ?? null, what, fields);
  for (const f of fields) {
    const v = raw?.[f];
    if (typeof v !== 'string' || (what === 'entry' && /[,\r\n]/.test(v))) {
      throw invalidArgument(
        `EndpointCache: ${what}.${f} must be a string without commas or line breaks, got ${describeValue(v)}`,
      );
    }
  }
}

function keyOf(k: EndpointCacheKey, what = 'key'): string {
  checkFields(k, what, KEY_FIELDS);
  return [k.channel, k.role, k.region, k.controlEndpoint].join('\u0000');
}

export class MemoryEndpointCache implements EndpointCache {
  protected entries = new Map<string, EndpointCacheEntry>();
  protected readonly ttlMs: number;
  protected readonly maxEntries: number;
  protected readonly now: () => number;

  constructor(opts: EndpointCacheOptions = {}) {
    const o = readFields(opts, 'MemoryEndpointCache: options', ['ttlMs', 'maxEntries', 'now']);
    this.ttlMs =
      checkNumber(o?.ttlMs, 'MemoryEndpointCache: ttlMs', {
        min: 0,
        max: Number.MAX_SAFE_INTEGER,
      }) ?? ENDPOINT_CACHE_TTL_MS;
    this.maxEntries =
      checkNumber(o?.maxEntries, 'MemoryEndpointCache: maxEntries', {
        min: 1,
        max: 1_000_000,
        integer: true,
      }) ?? ENDPOINT_CACHE_MAX_ENTRIES;
    if (o?.now !== undefined) checkFunction(o.now, 'MemoryEndpointCache: now');
    this.now = (o?.now as (() => number) | undefined) ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: EndpointCacheKey): EndpointCacheEntry | undefined {
    const e = this.entries.get(keyOf(key));
    if (!e) return undefined;
    const age = this.now() - e.cachedAt;
    if (age < 0 || age >= this.ttlMs) return undefined;
    return { ...e };
  }

  set(entry: EndpointCacheEntry): void {
    checkFields(entry, 'entry', ENTRY_FIELDS);
    const cachedAt: unknown = entry.cachedAt;
    checkNumber(cachedAt ?? null, 'EndpointCache: entry.cachedAt', {
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    });
    const k = keyOf(entry);
    this.entries.delete(k);
    this.entries.set(k, { ...entry });
    this.evict();
    this.persist();
  }

  delete(key: EndpointCacheKey): void {
    if (this.entries.delete(keyOf(key))) this.persist();
  }

  /** Drops expired entries, then the oldest beyond the bound. */
  protected evict(): void {
    const now = this.now();
    for (const [k, e] of this.entries) {
      if (now - e.cachedAt >= this.ttlMs || now < e.cachedAt) this.entries.delete(k);
    }
    const sorted = [...this.entries].sort((a, b) => a[1].cachedAt - b[1].cachedAt);
    while (sorted.length > this.maxEntries) {
      const [k] = sorted.shift() as [string, EndpointCacheEntry];
      this.entries.delete(k);
    }
  }

  protected persist(): void {
    // Memory only.
  }
}

const FIELDS = [
  'channel',
  'role',
  'region',
  'channelArn',
  'httpsEndpoint',
  'wssEndpoint',
  'cachedAt',
  'controlEndpoint',
] as const;

/** Commas and line breaks cannot occur in the fields we store; anything else is refused. */
function csvSafe(v: string): boolean {
  return !/[,\r\n]/.test(v);
}

/** Parses the cache file; unknown or damaged lines are skipped. Exported for tests. */
export function parseCacheFile(text: string): EndpointCacheEntry[] {
  const out: EndpointCacheEntry[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(',');
    if (cols.length !== FIELDS.length) continue;
    const [channel, role, region, channelArn, httpsEndpoint, wssEndpoint, cachedAt, ctl] = cols as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const secs = Number(cachedAt);
    if (role !== 'MASTER' && role !== 'VIEWER') continue;
    if (!channel || !region || !channelArn || !wssEndpoint || !Number.isFinite(secs)) continue;
    out.push({
      channel,
      role,
      region,
      channelArn,
      httpsEndpoint,
      wssEndpoint,
      cachedAt: secs * 1000,
      controlEndpoint: ctl,
    });
  }
  return out;
}

export function formatCacheFile(entries: EndpointCacheEntry[]): string {
  return entries
    .filter((e) =>
      [e.channel, e.region, e.channelArn, e.httpsEndpoint, e.wssEndpoint, e.controlEndpoint].every(
        csvSafe,
      ),
    )
    .map((e) =>
      [
        e.channel,
        e.role,
        e.region,
        e.channelArn,
        e.httpsEndpoint,
        e.wssEndpoint,
        String(Math.floor(e.cachedAt / 1000)),
        e.controlEndpoint,
      ].join(','),
    )
    .map((l) => `${l}\n`)
    .join('');
}

/** The file-backed cache: read at construction, rewritten atomically on every change. */
export class FileEndpointCache extends MemoryEndpointCache {
  constructor(
    readonly path: string,
    opts: EndpointCacheOptions = {},
  ) {
    super(opts);
    // A number would be read as a file descriptor (fs takes both), blocking on a pipe.
    if (typeof path !== 'string' || path === '') {
      throw invalidArgument(
        `FileEndpointCache: path must be a non-empty string, got ${describeValue(path)}`,
      );
    }
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      text = '';
    }
    for (const e of parseCacheFile(text)) this.entries.set(keyOf(e), e);
    this.evict();
  }

  protected override persist(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, formatCacheFile([...this.entries.values()]), { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}
