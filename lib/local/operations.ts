/**
 * The HTTP operations: the control plane (kinesisvideo REST-JSON) and the channel's HTTPS
 * data plane (GetIceServerConfig, SendAlexaOfferToMaster). Each takes the parsed body and a
 * call context, validates every field, authorizes against the resource and runs.
 */
import {
  accountChannelLimit,
  invalidArgument,
  notFound,
  resourceInUse,
  tagsLimit,
  versionMismatch,
} from './errors.js';
import type { LocalKvsLimits } from './limits.js';
import type { SignalingHub } from './signaling.js';
import { newVersion, type Channel, type ChannelStore } from './store.js';
import type { IceServer } from './turn.js';
import {
  checkArn,
  checkChannelName,
  checkNextToken,
  checkVersion,
  CLIENT_ID_RE,
  messageTtl,
  optInt,
  optObject,
  optString,
  reqString,
  tagKeyList,
  tagList,
  type Json,
} from './validate.js';

export interface ServiceContext {
  region: string;
  accountId: string;
  store: ChannelStore;
  hub: SignalingHub;
  limits: LocalKvsLimits;
  now: () => number;
  /** The origin clients reach this service at, e.g. `127.0.0.1:4443`. */
  hostPort: () => string;
  iceServers: (channelArn: string) => IceServer[];
  /** Applies a TPS quota; throws ClientLimitExceededException when it is exceeded. */
  rate: (key: string, limit: number, scope: 'account' | 'channel') => void;
}

export interface CallContext {
  /** Throws AccessDenied (control plane) or NotAuthorized (data plane) unless allowed. */
  authorize: (resource: string) => void;
  /** The channel name the call concerns, for metrics; set by the operation. */
  channelName?: string;
}

export interface Operation {
  name: string;
  /** `admin`: the local service's own test hooks, not part of the KVS API. */
  plane: 'control' | 'data' | 'admin';
  run: (body: Json, svc: ServiceContext, call: CallContext) => unknown;
}

export function channelInfo(c: Channel): Json {
  return {
    ChannelName: c.name,
    ChannelARN: c.arn,
    ChannelType: c.type,
    ChannelStatus: c.status,
    // The v3 SDK parses epoch seconds; an ISO string makes it throw.
    CreationTime: c.createdAt / 1000,
    SingleMasterConfiguration: { MessageTtlSeconds: c.messageTtlSeconds },
    Version: c.version,
  };
}

/**
 * The common steps of a call on one channel: authorize against its ARN, find it (404), name it
 * for metrics, and, for the APIs that have one, apply the channel-level TPS quota
 * ("5 TPS [h]" in the control-plane table).
 */
function target(
  svc: ServiceContext,
  call: CallContext,
  arn: string,
  channelQuota?: { key: string; limit: number },
): Channel {
  call.authorize(arn);
  const c = svc.store.byArn(arn);
  if (!c) throw notFound();
  call.channelName = c.name;
  if (channelQuota) svc.rate(`${channelQuota.key}:${c.arn}`, channelQuota.limit, 'channel');
  return c;
}

const cpQuota = (svc: ServiceContext, op: string): { key: string; limit: number } => ({
  key: `cp-channel:${op}`,
  limit: svc.limits.controlPlaneChannelTps,
});

const dpQuota = (svc: ServiceContext, op: string): { key: string; limit: number } => ({
  key: `dp:${op}`,
  limit: svc.limits.dataPlaneTpsPerChannel,
});

const createSignalingChannel: Operation = {
  name: 'CreateSignalingChannel',
  plane: 'control',
  run(body, svc, call) {
    const name = checkChannelName(reqString(body, 'ChannelName'));
    call.channelName = name;
    const type = optString(body, 'ChannelType');
    if (type !== undefined && type !== 'SINGLE_MASTER') {
      throw invalidArgument(
        type === 'FULL_MESH'
          ? 'ChannelType FULL_MESH is not supported.'
          : `ChannelType must be SINGLE_MASTER, got ${JSON.stringify(type)}.`,
      );
    }
    const ttl = messageTtl(body) ?? 60;
    const tags = tagList(body, 'Tags', 0) ?? {};
    const createdAt = svc.now();
    const arnFor = (t: number): string =>
      `arn:aws:kinesisvideo:${svc.region}:${svc.accountId}:channel/${name}/${t}`;
    call.authorize(arnFor(createdAt));
    if (svc.store.byChannelName(name)) {
      throw resourceInUse(`The signaling channel ${name} already exists.`);
    }
    if (svc.store.size >= svc.limits.maxChannels) {
      throw accountChannelLimit(
        `The account already has the maximum of ${svc.limits.maxChannels} signaling channels.`,
      );
    }
    const channel: Channel = {
      name,
      arn: arnFor(createdAt),
      type: 'SINGLE_MASTER',
      status: 'ACTIVE',
      createdAt,
      messageTtlSeconds: ttl,
      version: newVersion(),
      tags,
    };
    svc.store.put(channel);
    return { ChannelARN: channel.arn };
  },
};

const describeSignalingChannel: Operation = {
  name: 'DescribeSignalingChannel',
  plane: 'control',
  run(body, svc, call) {
    const name = optString(body, 'ChannelName');
    const arn = optString(body, 'ChannelARN');
    if (name === undefined && arn === undefined) {
      throw invalidArgument('Either ChannelName or ChannelARN is required.');
    }
    if (name !== undefined) checkChannelName(name);
    if (arn !== undefined) checkArn(arn);
    // By name, the ARN to authorize against is the named channel's (a pattern if it is absent).
    const byName = name !== undefined ? svc.store.byChannelName(name) : undefined;
    const resource =
      arn ?? byName?.arn ?? `arn:aws:kinesisvideo:${svc.region}:${svc.accountId}:channel/${name}/*`;
    const c = target(svc, call, resource, cpQuota(svc, 'DescribeSignalingChannel'));
    if (name !== undefined && c.name !== name) throw notFound();
    return { ChannelInfo: channelInfo(c) };
  },
};

function decodeToken(token: string): string {
  const name = Buffer.from(token, 'base64').toString('utf8');
  // Our tokens are base64 of the last channel name returned; anything else is not ours.
  if (
    Buffer.from(name, 'utf8').toString('base64') !== token ||
    !/^[a-zA-Z0-9_.-]{1,256}$/.test(name)
  ) {
    throw invalidArgument('NextToken is not valid.');
  }
  return name;
}

const listSignalingChannels: Operation = {
  name: 'ListSignalingChannels',
  plane: 'control',
  run(body, svc, call) {
    const max = optInt(body, 'MaxResults', 1, 10000) ?? 10000;
    const tokenRaw = optString(body, 'NextToken');
    const after =
      tokenRaw !== undefined && tokenRaw !== '' ? decodeToken(checkNextToken(tokenRaw)) : undefined;
    const cond = optObject(body, 'ChannelNameCondition');
    let prefix: string | undefined;
    if (cond) {
      const op = optString(cond, 'ComparisonOperator');
      if (op !== undefined && op !== 'BEGINS_WITH') {
        throw invalidArgument('ComparisonOperator must be BEGINS_WITH.');
      }
      prefix = optString(cond, 'ComparisonValue');
      if (prefix !== undefined) checkChannelName(prefix, 'ComparisonValue');
    }
    call.authorize('*');
    const all = svc.store
      .list()
      .filter(
        (c) =>
          (prefix === undefined || c.name.startsWith(prefix)) &&
          (after === undefined || c.name > after),
      );
    const page = all.slice(0, max);
    const out: Json = { ChannelInfoList: page.map(channelInfo) };
    const last = page[page.length - 1];
    if (all.length > page.length && last)
      out['NextToken'] = Buffer.from(last.name, 'utf8').toString('base64');
    return out;
  },
};

const updateSignalingChannel: Operation = {
  name: 'UpdateSignalingChannel',
  plane: 'control',
  run(body, svc, call) {
    const arn = checkArn(reqString(body, 'ChannelARN'));
    const version = checkVersion(reqString(body, 'CurrentVersion'));
    const ttl = messageTtl(body);
    const c = target(svc, call, arn, cpQuota(svc, 'UpdateSignalingChannel'));
    if (c.version !== version) {
      throw versionMismatch(
        'The version of the channel does not match the CurrentVersion provided.',
      );
    }
    svc.store.put({ ...c, messageTtlSeconds: ttl ?? c.messageTtlSeconds, version: newVersion() });
    return {};
  },
};

const deleteSignalingChannel: Operation = {
  name: 'DeleteSignalingChannel',
  plane: 'control',
  run(body, svc, call) {
    const arn = checkArn(reqString(body, 'ChannelARN'));
    const versionRaw = optString(body, 'CurrentVersion');
    const version = versionRaw === undefined ? undefined : checkVersion(versionRaw);
    const c = target(svc, call, arn, cpQuota(svc, 'DeleteSignalingChannel'));
    if (version !== undefined && c.version !== version) {
      throw versionMismatch(
        'The version of the channel does not match the CurrentVersion provided.',
      );
    }
    svc.store.delete(c.name);
    svc.hub.channelDeleted(c.arn);
    return {};
  },
};

const PROTOCOLS = ['WSS', 'HTTPS', 'WEBRTC'];

const getSignalingChannelEndpoint: Operation = {
  name: 'GetSignalingChannelEndpoint',
  plane: 'control',
  run(body, svc, call) {
    const arn = checkArn(reqString(body, 'ChannelARN'));
    const cfg = optObject(body, 'SingleMasterChannelEndpointConfiguration');
    let protocols = ['WSS', 'HTTPS'];
    if (cfg) {
      const role = optString(cfg, 'Role');
      if (role !== undefined && role !== 'MASTER' && role !== 'VIEWER') {
        throw invalidArgument('Role must be MASTER or VIEWER.');
      }
      const p = cfg['Protocols'];
      if (p !== undefined && p !== null) {
        if (
          !Array.isArray(p) ||
          p.length < 1 ||
          p.length > 5 ||
          !p.every((x) => typeof x === 'string' && PROTOCOLS.includes(x)) ||
          new Set(p).size !== p.length
        ) {
          throw invalidArgument('Protocols must be 1-5 distinct values of WSS, HTTPS, WEBRTC.');
        }
        protocols = p as string[];
      }
    }
    target(svc, call, arn);
    if (protocols.includes('WEBRTC')) {
      throw invalidArgument(
        'The WEBRTC protocol needs a channel with media storage, which the local service does not offer.',
      );
    }
    // Master and viewer share one origin here: the role is told by the presence of X-Amz-ClientId.
    return {
      ResourceEndpointList: protocols.map((Protocol) => ({
        Protocol,
        ResourceEndpoint: `${Protocol === 'WSS' ? 'wss' : 'https'}://${svc.hostPort()}`,
      })),
    };
  },
};

const tagResource: Operation = {
  name: 'TagResource',
  plane: 'control',
  run(body, svc, call) {
    const arn = checkArn(reqString(body, 'ResourceARN'), 'ResourceARN');
    const tags = tagList(body, 'Tags', 1) as Record<string, string>;
    const c = target(svc, call, arn, cpQuota(svc, 'TagResource'));
    const merged = { ...c.tags, ...tags };
    if (Object.keys(merged).length > 50) {
      throw tagsLimit('A resource can have at most 50 tags.');
    }
    svc.store.put({ ...c, tags: merged });
    return {};
  },
};

const untagResource: Operation = {
  name: 'UntagResource',
  plane: 'control',
  run(body, svc, call) {
    const arn = checkArn(reqString(body, 'ResourceARN'), 'ResourceARN');
    const keys = tagKeyList(body);
    const c = target(svc, call, arn, cpQuota(svc, 'UntagResource'));
    const drop = new Set(keys);
    const tags = Object.fromEntries(Object.entries(c.tags).filter(([k]) => !drop.has(k)));
    svc.store.put({ ...c, tags });
    return {};
  },
};

const listTagsForResource: Operation = {
  name: 'ListTagsForResource',
  plane: 'control',
  run(body, svc, call) {
    const arn = checkArn(reqString(body, 'ResourceARN'), 'ResourceARN');
    const token = optString(body, 'NextToken');
    if (token !== undefined) checkNextToken(token);
    const c = target(svc, call, arn, cpQuota(svc, 'ListTagsForResource'));
    // At most 50 tags: one page always holds them all, so no NextToken is ever returned.
    return { Tags: { ...c.tags } };
  },
};

const getIceServerConfig: Operation = {
  name: 'GetIceServerConfig',
  plane: 'data',
  run(body, svc, call) {
    const arn = checkArn(reqString(body, 'ChannelARN'));
    const clientId = optString(body, 'ClientId');
    if (clientId !== undefined && !CLIENT_ID_RE.test(clientId)) {
      throw invalidArgument('ClientId must be 1-256 characters of [a-zA-Z0-9_.-].');
    }
    const service = optString(body, 'Service');
    if (service !== undefined && service !== 'TURN') throw invalidArgument('Service must be TURN.');
    const username = optString(body, 'Username');
    if (username !== undefined && (username.length < 1 || username.length > 256)) {
      throw invalidArgument('Username must be 1-256 characters.');
    }
    const c = target(svc, call, arn, dpQuota(svc, 'GetIceServerConfig'));
    return { IceServerList: svc.iceServers(c.arn) };
  },
};

const sendAlexaOfferToMaster: Operation = {
  name: 'SendAlexaOfferToMaster',
  plane: 'data',
  async run(body, svc, call) {
    const arn = checkArn(reqString(body, 'ChannelARN'));
    const sender = reqString(body, 'SenderClientId');
    if (!CLIENT_ID_RE.test(sender)) {
      throw invalidArgument('SenderClientId must be 1-256 characters of [a-zA-Z0-9_.-].');
    }
    const payload = reqString(body, 'MessagePayload');
    if (payload.length < 1 || payload.length > 10000) {
      throw invalidArgument('MessagePayload must be 1-10000 characters.');
    }
    const c = target(svc, call, arn, dpQuota(svc, 'SendAlexaOfferToMaster'));
    return { Answer: await svc.hub.alexaOffer(c, sender, payload) };
  },
};

function optionalArn(body: Json): string | undefined {
  const arn = optString(body, 'ChannelARN');
  return arn === undefined ? undefined : checkArn(arn);
}

/** Admin: GO_AWAY to one channel's connections (or all), closed after the grace period. */
const adminGoAway: Operation = {
  name: 'GoAway',
  plane: 'admin',
  run(body, svc, call) {
    const arn = optionalArn(body);
    call.authorize(arn ?? '*');
    return { Connections: svc.hub.goAway(arn) };
  },
};

/** Admin: RECONNECT_ICE_SERVER to one channel's connections (or all). */
const adminReconnectIceServer: Operation = {
  name: 'ReconnectIceServer',
  plane: 'admin',
  run(body, svc, call) {
    const arn = optionalArn(body);
    call.authorize(arn ?? '*');
    return { Connections: svc.hub.reconnectIceServer(arn) };
  },
};

/** Paths are case-sensitive and exactly the service model's (admin paths are ours). */
export const ROUTES: ReadonlyMap<string, Operation> = new Map([
  ['/createSignalingChannel', createSignalingChannel],
  ['/describeSignalingChannel', describeSignalingChannel],
  ['/listSignalingChannels', listSignalingChannels],
  ['/updateSignalingChannel', updateSignalingChannel],
  ['/deleteSignalingChannel', deleteSignalingChannel],
  ['/getSignalingChannelEndpoint', getSignalingChannelEndpoint],
  ['/TagResource', tagResource],
  ['/UntagResource', untagResource],
  ['/ListTagsForResource', listTagsForResource],
  ['/v1/get-ice-server-config', getIceServerConfig],
  ['/v1/send-alexa-offer-to-master', sendAlexaOfferToMaster],
  ['/local-admin/go-away', adminGoAway],
  ['/local-admin/reconnect-ice-server', adminReconnectIceServer],
]);
