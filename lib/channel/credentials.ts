/**
 * Where the client's AWS credentials come from: given explicitly (static or a provider
 * function), the AWS IoT credentials endpoint when the C SDK's `AWS_IOT_CORE_*` variables
 * are set, or else the AWS SDK's Node provider chain (environment, shared config and SSO,
 * process, web identity, container and instance metadata). Cached, and refreshed before their
 * `expiration`, or at once after the service refused them.
 */
import { credentialProviderNode, crypto } from '../lazy.js';
import { fromIotCredentials, iotOptionsFromEnv } from './iot-credentials.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  expiration?: Date | undefined;
}

export type CredentialProvider = () => Promise<AwsCredentials>;
export type CredentialsInput = AwsCredentials | CredentialProvider;

/**
 * When no credentials were given: the AWS IoT provider if the `AWS_IOT_CORE_*` variables are
 * set (as the C SDK's samples do), else the AWS SDK's default provider chain. Chosen, and the
 * chain loaded, only when credentials are first asked for.
 */
export function defaultCredentialProvider(): CredentialProvider {
  let chain: CredentialProvider | undefined;
  return () => {
    try {
      if (!chain) {
        const iot = iotOptionsFromEnv();
        chain = iot ? fromIotCredentials(iot) : credentialProviderNode().defaultProvider();
      }
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return chain();
  };
}

function isCredentials(c: unknown): c is AwsCredentials {
  if (typeof c !== 'object' || c === null) return false;
  const o = c as Record<string, unknown>;
  return typeof o['accessKeyId'] === 'string' && typeof o['secretAccessKey'] === 'string';
}

export class CredentialSource {
  private current: AwsCredentials | undefined;
  private inflight: Promise<AwsCredentials> | undefined;
  private readonly provider: CredentialProvider;
  /** Times the underlying provider was asked. */
  fetches = 0;

  constructor(
    input: CredentialsInput | undefined,
    /** Refresh when fewer than this many ms remain before `expiration`. */
    private readonly refreshMarginMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {
    if (typeof input === 'function') this.provider = input;
    else if (input) {
      const fixed = { ...input };
      this.provider = () => Promise.resolve(fixed);
    } else this.provider = defaultCredentialProvider();
  }

  /** True when cached credentials are missing or within the margin of their expiry. */
  stale(): boolean {
    const c = this.current;
    if (!c) return true;
    if (!c.expiration) return false;
    return c.expiration.getTime() - this.now() < this.refreshMarginMs;
  }

  /**
   * Which credentials are cached now (a digest, never the secret itself), to tell whether a
   * refresh brought new ones; undefined when none are cached.
   */
  fingerprint(): string | undefined {
    const c = this.current;
    if (!c) return undefined;
    return crypto()
      .createHash('sha256')
      .update(`${c.accessKeyId}\n${c.secretAccessKey}\n${c.sessionToken ?? ''}`)
      .digest('hex');
  }

  /** The access key id of the cached credentials (not secret: AWS errors name it too). */
  get accessKeyId(): string | undefined {
    return this.current?.accessKeyId;
  }

  /** Drops the cached credentials (the service refused them). */
  invalidate(): void {
    this.current = undefined;
    // A caching provider (fromIotCredentials) must not hand the refused credentials back.
    const p = this.provider as CredentialProvider & { invalidate?: unknown };
    if (typeof p.invalidate === 'function') (p.invalidate as () => void)();
  }

  /** The credentials to sign with, refreshed when stale. Concurrent callers share one fetch. */
  get(): Promise<AwsCredentials> {
    if (!this.stale()) return Promise.resolve(this.current as AwsCredentials);
    this.inflight ??= (async () => {
      try {
        this.fetches++;
        // A provider is the caller's code: check what it really returned.
        const c: unknown = await this.provider();
        if (!isCredentials(c))
          throw new Error('the credential provider returned no accessKeyId/secretAccessKey');
        this.current = c;
        return c;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}
