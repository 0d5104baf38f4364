/**
 * Signaling channels and their tags, held in memory and persisted as one JSON document in the
 * data directory. Every mutation is written atomically before the caller acknowledges it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { KvsError } from '../errors.js';
import { atomicWriteFileSync } from './atomic-file.js';

export interface Channel {
  name: string;
  arn: string;
  type: 'SINGLE_MASTER';
  status: 'ACTIVE';
  /** Epoch milliseconds. */
  createdAt: number;
  messageTtlSeconds: number;
  version: string;
  tags: Record<string, string>;
}

interface StoreFile {
  format: 1;
  channels: Channel[];
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function newVersion(): string {
  const bytes = randomBytes(20);
  return Array.from(bytes, (b) => ALNUM[b % ALNUM.length]).join('');
}

export class ChannelStore {
  private readonly byName = new Map<string, Channel>();
  private readonly file: string;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, 'channels.json');
    // Temp files of writes cut short by a crash hold nothing acknowledged: clear them away.
    for (const f of readdirSync(dataDir)) {
      if (f.startsWith('.channels.json.') && f.endsWith('.tmp'))
        rmSync(join(dataDir, f), { force: true });
    }
    if (existsSync(this.file)) {
      // What is on disk is checked, not trusted: it may be damaged or from another version.
      let doc: { format?: unknown; channels?: unknown };
      try {
        doc = JSON.parse(readFileSync(this.file, 'utf8')) as typeof doc;
      } catch (e) {
        throw new KvsError('ERR_LOCAL_STORE', `${this.file}: ${(e as Error).message}`, {
          cause: e,
        });
      }
      if (doc.format !== 1 || !Array.isArray(doc.channels))
        throw new KvsError(
          'ERR_LOCAL_STORE',
          `${this.file}: unknown format ${JSON.stringify(doc.format)}`,
        );
      for (const c of doc.channels as StoreFile['channels']) this.byName.set(c.name, c);
    }
  }

  get size(): number {
    return this.byName.size;
  }

  byChannelName(name: string): Channel | undefined {
    return this.byName.get(name);
  }

  byArn(arn: string): Channel | undefined {
    // The name is the ARN's second-to-last segment; the full ARN must match too, so an ARN of
    // a deleted-and-recreated channel does not resolve to the new one.
    const parts = arn.split('/');
    const c = parts.length >= 3 ? this.byName.get(parts[parts.length - 2] as string) : undefined;
    return c && c.arn === arn ? c : undefined;
  }

  /** All channels sorted by name, which makes name-based pagination stable. */
  list(): Channel[] {
    return [...this.byName.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  }

  put(c: Channel): void {
    const previous = this.byName.get(c.name);
    this.byName.set(c.name, c);
    try {
      this.persist();
    } catch (e) {
      if (previous) this.byName.set(c.name, previous);
      else this.byName.delete(c.name);
      throw e;
    }
  }

  delete(name: string): void {
    const previous = this.byName.get(name);
    if (!previous) return;
    this.byName.delete(name);
    try {
      this.persist();
    } catch (e) {
      this.byName.set(name, previous);
      throw e;
    }
  }

  private persist(): void {
    const doc: StoreFile = { format: 1, channels: this.list() };
    atomicWriteFileSync(this.file, JSON.stringify(doc));
  }
}
