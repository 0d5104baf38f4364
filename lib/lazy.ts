/**
 * What loads on first use instead of at `require('kvs-webrtc')`: the AWS SDK clients and the
 * credential provider chain, `ws`, `@smithy/signature-v4`, and the Node built-ins only they
 * need. A device app that only makes peer connections never pays for them. Their types stay
 * static (`import type`); this file is the one place that calls `require` at run time.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loading these on first use is this file's job */
import type * as KinesisVideo from '@aws-sdk/client-kinesis-video';
import type * as KinesisVideoSignaling from '@aws-sdk/client-kinesis-video-signaling';
import type * as ProviderNode from '@aws-sdk/credential-provider-node';
import type * as SignatureV4 from '@smithy/signature-v4';
import type * as Crypto from 'node:crypto';
import type * as Https from 'node:https';
import type * as Tls from 'node:tls';
import type WebSocket from 'ws';

/** `load()` once, on the first call. */
function once<T>(load: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => (cached ??= { value: load() }).value;
}

export const kinesisVideo = once(
  () => require('@aws-sdk/client-kinesis-video') as typeof KinesisVideo,
);
export const kinesisVideoSignaling = once(
  () => require('@aws-sdk/client-kinesis-video-signaling') as typeof KinesisVideoSignaling,
);
export const credentialProviderNode = once(
  () => require('@aws-sdk/credential-provider-node') as typeof ProviderNode,
);
export const signatureV4 = once(() => require('@smithy/signature-v4') as typeof SignatureV4);
/** The `ws` WebSocket class (the package's export). */
export const webSocket = once(() => require('ws') as typeof WebSocket);
export const https = once(() => require('node:https') as typeof Https);
export const tls = once(() => require('node:tls') as typeof Tls);
export const crypto = once(() => require('node:crypto') as typeof Crypto);
