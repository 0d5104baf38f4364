/**
 * Control-plane and data-plane calls for one signaling client, through the AWS SDK v3 clients
 * (`@aws-sdk/client-kinesis-video`, `@aws-sdk/client-kinesis-video-signaling`). The same code
 * serves the real service (region) and the local one (endpoint override and its CA, passed as
 * an https Agent to the SDK's request handler). Failures come back as `ChannelCallError` with
 * the HTTP status and the service's error name; the SDK's own retries are off (maxAttempts 1)
 * so the signaling state machine owns retrying and counts it. One clock correction is shared
 * by every client and by the WebSocket presigner. The SDK itself loads on the first call.
 */
import type * as Https from 'node:https';
import type * as KinesisVideo from '@aws-sdk/client-kinesis-video';
import type * as KinesisVideoSignaling from '@aws-sdk/client-kinesis-video-signaling';
import { https, kinesisVideo, kinesisVideoSignaling } from '../lazy.js';
import type { CredentialSource } from './credentials.js';
import { ChannelCallError, classifyFailure } from './failure.js';

export { ChannelCallError } from './failure.js';

/** One ICE server as GetIceServerConfig returns it. */
export interface RawIceServer {
  Uris?: string[] | undefined;
  Username?: string | undefined;
  Password?: string | undefined;
  Ttl?: number | undefined;
}

/** The clock correction (ms added to the local clock when signing), shared by all signers. */
export interface SharedClock {
  offsetMs: number;
}

export interface ChannelApiOptions {
  region: string;
  /** Control-plane endpoint override, e.g. the local service's `https://127.0.0.1:PORT`. */
  endpoint?: string | undefined;
  /** PEM CA certificates to trust (the caller includes the roots it wants kept). */
  caCert?: string | Buffer | (string | Buffer)[] | undefined;
  credentials: CredentialSource;
  clock: SharedClock;
  /** TCP+TLS connect timeout of each call (C SDK: 2 s). */
  connectTimeoutMs?: number;
  /** Time for a call to complete once connected (C SDK: 5 s). */
  requestTimeoutMs?: number;
}

export interface DescribedChannel {
  channelArn: string;
  channelName: string;
  status: string;
  messageTtlSeconds: number | undefined;
  version: string | undefined;
}

type SdkLike = { config: { systemClockOffset: number }; destroy(): void };

function toCallError(e: unknown, what: string): ChannelCallError {
  const err = e as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number; clockSkewCorrected?: boolean };
  };
  const status = err.$metadata?.httpStatusCode;
  const name = err.name && err.name !== 'Error' ? err.name : (err.code ?? 'Error');
  const kind = classifyFailure(status, name);
  return new ChannelCallError(
    `${what} failed${status ? ` (HTTP ${status} ${name})` : ` (${name})`}: ${err.message ?? String(e)}`,
    status,
    name,
    kind,
    err.$metadata?.clockSkewCorrected === true,
    { cause: e },
  );
}

export class ChannelApi {
  private controlClient: KinesisVideo.KinesisVideoClient | undefined;
  private readonly dataClients = new Map<
    string,
    KinesisVideoSignaling.KinesisVideoSignalingClient
  >();
  private agentValue: Https.Agent | undefined;

  constructor(private readonly opts: ChannelApiOptions) {}

  /** The https Agent trusting the configured CA, made with the first SDK client. */
  private get agent(): Https.Agent | undefined {
    if (this.opts.caCert && !this.agentValue)
      this.agentValue = new (https().Agent)({ ca: this.opts.caCert, keepAlive: true });
    return this.agentValue;
  }

  /** The control-plane client, made (and the SDK loaded) on the first call. */
  private get control(): KinesisVideo.KinesisVideoClient {
    this.controlClient ??= new (kinesisVideo().KinesisVideoClient)(
      this.clientConfig(this.opts.endpoint),
    );
    return this.controlClient;
  }

  private clientConfig(
    endpoint: string | undefined,
  ): ConstructorParameters<typeof KinesisVideo.KinesisVideoClient>[0] & object {
    const source = this.opts.credentials;
    // `memoized` tells the SDK not to cache: CredentialSource caches and refreshes itself.
    const credentials = Object.assign(() => source.get(), { memoized: true });
    return {
      region: this.opts.region,
      ...(endpoint ? { endpoint } : {}),
      credentials,
      maxAttempts: 1,
      systemClockOffset: this.opts.clock.offsetMs,
      requestHandler: {
        ...(this.agent ? { httpsAgent: this.agent } : {}),
        connectionTimeout: this.opts.connectTimeoutMs ?? 2000,
        requestTimeout: this.opts.requestTimeoutMs ?? 5000,
      },
    };
  }

  private data(httpsEndpoint: string): KinesisVideoSignaling.KinesisVideoSignalingClient {
    let c = this.dataClients.get(httpsEndpoint);
    if (!c) {
      c = new (kinesisVideoSignaling().KinesisVideoSignalingClient)(
        this.clientConfig(httpsEndpoint),
      );
      this.dataClients.set(httpsEndpoint, c);
    }
    return c;
  }

  /**
   * Runs one SDK call with the shared clock, mapping every failure (making the client and
   * loading the SDK included) to ChannelCallError.
   */
  private async run<C extends SdkLike, T>(
    make: () => C,
    what: string,
    call: (client: C) => Promise<T>,
  ): Promise<T> {
    let client: C;
    try {
      client = make();
    } catch (e) {
      throw toCallError(e, what);
    }
    client.config.systemClockOffset = this.opts.clock.offsetMs;
    try {
      return await call(client);
    } catch (e) {
      throw toCallError(e, what);
    } finally {
      // The SDK corrects its offset from the service's Date header; share what it learnt.
      this.opts.clock.offsetMs = client.config.systemClockOffset;
    }
  }

  describe(
    channel: { channelName?: string; channelArn?: string },
    signal?: AbortSignal,
  ): Promise<DescribedChannel> {
    const input = channel.channelArn
      ? { ChannelARN: channel.channelArn }
      : { ChannelName: channel.channelName };
    return this.run(
      () => this.control,
      'DescribeSignalingChannel',
      async (control) => {
        const out = await control.send(
          new (kinesisVideo().DescribeSignalingChannelCommand)(input),
          {
            abortSignal: signal,
          },
        );
        const info = out.ChannelInfo;
        if (!info?.ChannelARN) throw new Error('DescribeSignalingChannel returned no ChannelARN');
        return {
          channelArn: info.ChannelARN,
          channelName: info.ChannelName ?? '',
          status: info.ChannelStatus ?? 'ACTIVE',
          messageTtlSeconds: info.SingleMasterConfiguration?.MessageTtlSeconds,
          version: info.Version,
        };
      },
    );
  }

  create(channelName: string, messageTtlSeconds?: number, signal?: AbortSignal): Promise<string> {
    return this.run(
      () => this.control,
      'CreateSignalingChannel',
      async (control) => {
        const out = await control.send(
          new (kinesisVideo().CreateSignalingChannelCommand)({
            ChannelName: channelName,
            ChannelType: 'SINGLE_MASTER',
            ...(messageTtlSeconds !== undefined
              ? { SingleMasterConfiguration: { MessageTtlSeconds: messageTtlSeconds } }
              : {}),
          }),
          { abortSignal: signal },
        );
        if (!out.ChannelARN) throw new Error('CreateSignalingChannel returned no ChannelARN');
        return out.ChannelARN;
      },
    );
  }

  getEndpoints(
    channelArn: string,
    role: 'MASTER' | 'VIEWER',
    signal?: AbortSignal,
  ): Promise<{ wssEndpoint: string; httpsEndpoint: string }> {
    return this.run(
      () => this.control,
      'GetSignalingChannelEndpoint',
      async (control) => {
        const out = await control.send(
          new (kinesisVideo().GetSignalingChannelEndpointCommand)({
            ChannelARN: channelArn,
            SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'HTTPS'], Role: role },
          }),
          { abortSignal: signal },
        );
        const list = out.ResourceEndpointList ?? [];
        const wss = list.find((e) => e.Protocol === 'WSS')?.ResourceEndpoint;
        const https = list.find((e) => e.Protocol === 'HTTPS')?.ResourceEndpoint;
        if (!wss || !https)
          throw new Error('GetSignalingChannelEndpoint returned no WSS or HTTPS endpoint');
        return { wssEndpoint: wss, httpsEndpoint: https };
      },
    );
  }

  getIceServerConfig(
    httpsEndpoint: string,
    channelArn: string,
    clientId: string | undefined,
    signal?: AbortSignal,
  ): Promise<RawIceServer[]> {
    return this.run(
      () => this.data(httpsEndpoint),
      'GetIceServerConfig',
      async (client) => {
        const out = await client.send(
          new (kinesisVideoSignaling().GetIceServerConfigCommand)({
            ChannelARN: channelArn,
            ...(clientId !== undefined ? { ClientId: clientId } : {}),
            Service: 'TURN',
          }),
          { abortSignal: signal },
        );
        return out.IceServerList ?? [];
      },
    );
  }

  delete(channelArn: string, version?: string, signal?: AbortSignal): Promise<void> {
    return this.run(
      () => this.control,
      'DeleteSignalingChannel',
      async (control) => {
        await control.send(
          new (kinesisVideo().DeleteSignalingChannelCommand)({
            ChannelARN: channelArn,
            ...(version !== undefined ? { CurrentVersion: version } : {}),
          }),
          { abortSignal: signal },
        );
      },
    );
  }

  /** The https Agent trusting the configured CA (the WebSocket uses the same trust). */
  get caCert(): string | Buffer | (string | Buffer)[] | undefined {
    return this.opts.caCert;
  }

  close(): void {
    this.controlClient?.destroy();
    this.controlClient = undefined;
    for (const c of this.dataClients.values()) c.destroy();
    this.dataClients.clear();
    this.agentValue?.destroy();
    this.agentValue = undefined;
  }
}
