/**
 * Unit tests of the local service's pure modules: policy evaluation (the seed's four example
 * policies), the rate limiter, TURN credentials, CloudTrail records, Prometheus rendering,
 * field validation, TLS material and the channel store's atomic persistence.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { camelKeys, cloudTrailRecord } from '../../lib/local/audit.js';
import { CredentialTable } from '../../lib/local/credentials.js';
import { resolveLimits, DEFAULT_LIMITS } from '../../lib/local/limits.js';
import { Metrics } from '../../lib/local/metrics.js';
import {
  evaluate,
  globMatch,
  matchAction,
  matchResource,
  validatePolicy,
  type PolicyDocument,
} from '../../lib/local/policy.js';
import { RateLimiter } from '../../lib/local/rate.js';
import { ChannelStore } from '../../lib/local/store.js';
import { ensureTlsMaterial } from '../../lib/local/tls.js';
import { channelArnOfUsername, turnCredential } from '../../lib/local/turn.js';
import { checkArn, checkClientId, checkTagKey, tagList } from '../../lib/local/validate.js';
import { removeDir, tempDir } from './helpers.js';

const CH = 'arn:aws:kinesisvideo:us-west-2:123456789012:channel/channel_name/0123456789012';
const OTHER = 'arn:aws:kinesisvideo:us-west-2:123456789012:channel/other/0123456789012';

// The seed's "Example Policies for Kinesis Video Streams with WebRTC", verbatim in structure.
const EXAMPLE_1: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['kinesisvideo:Describe*', 'kinesisvideo:Get*', 'kinesisvideo:List*'],
      Resource: '*',
    },
  ],
};
const EXAMPLE_2: PolicyDocument = {
  Statement: [{ Effect: 'Allow', Action: ['kinesisvideo:CreateSignalingChannel'], Resource: '*' }],
};
const EXAMPLE_3: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'kinesisvideo:*', Resource: '*' }],
};
const EXAMPLE_4: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'kinesisvideo:DescribeSignalingChannel', Resource: CH }],
};

describe('policy evaluation', () => {
  it('Example 1: Describe*, Get*, List* on any channel, nothing else', () => {
    for (const a of [
      'DescribeSignalingChannel',
      'GetSignalingChannelEndpoint',
      'GetIceServerConfig',
      'ListSignalingChannels',
      'ListTagsForResource',
    ]) {
      expect(evaluate([EXAMPLE_1], `kinesisvideo:${a}`, CH)).toBe('Allow');
    }
    for (const a of [
      'CreateSignalingChannel',
      'DeleteSignalingChannel',
      'TagResource',
      'ConnectAsMaster',
    ]) {
      expect(evaluate([EXAMPLE_1], `kinesisvideo:${a}`, CH)).toBe('ImplicitDeny');
    }
  });

  it('Example 2: CreateSignalingChannel only', () => {
    expect(evaluate([EXAMPLE_2], 'kinesisvideo:CreateSignalingChannel', CH)).toBe('Allow');
    expect(evaluate([EXAMPLE_2], 'kinesisvideo:DescribeSignalingChannel', CH)).toBe('ImplicitDeny');
  });

  it('Example 3: every kinesisvideo action on every resource, no other service', () => {
    for (const a of ['CreateSignalingChannel', 'ConnectAsViewer', 'SendAlexaOfferToMaster']) {
      expect(evaluate([EXAMPLE_3], `kinesisvideo:${a}`, OTHER)).toBe('Allow');
    }
    expect(evaluate([EXAMPLE_3], 'kinesis:PutRecord', OTHER)).toBe('ImplicitDeny');
  });

  it('Example 4: DescribeSignalingChannel on the one channel ARN only', () => {
    expect(evaluate([EXAMPLE_4], 'kinesisvideo:DescribeSignalingChannel', CH)).toBe('Allow');
    expect(evaluate([EXAMPLE_4], 'kinesisvideo:DescribeSignalingChannel', OTHER)).toBe(
      'ImplicitDeny',
    );
    expect(evaluate([EXAMPLE_4], 'kinesisvideo:GetSignalingChannelEndpoint', CH)).toBe(
      'ImplicitDeny',
    );
  });

  it('default deny, explicit deny wins, wildcards, NotAction and NotResource', () => {
    expect(evaluate([], 'kinesisvideo:ListSignalingChannels', '*')).toBe('ImplicitDeny');
    const deny: PolicyDocument = {
      Statement: {
        Effect: 'Deny',
        Action: 'kinesisvideo:Delete*',
        Resource: 'arn:aws:kinesisvideo:*:*:channel/prod-*',
      },
    };
    const prod = 'arn:aws:kinesisvideo:us-west-2:123456789012:channel/prod-1/1';
    expect(evaluate([EXAMPLE_3, deny], 'kinesisvideo:DeleteSignalingChannel', prod)).toBe(
      'ExplicitDeny',
    );
    expect(evaluate([deny, EXAMPLE_3], 'kinesisvideo:DeleteSignalingChannel', OTHER)).toBe('Allow');
    // Actions match case-insensitively, resources case-sensitively; ? is one character.
    expect(matchAction('KinesisVideo:get*', 'kinesisvideo:GetIceServerConfig')).toBe(true);
    expect(
      evaluate(
        [
          {
            Statement: {
              Effect: 'Allow',
              Action: '*',
              Resource: 'arn:aws:kinesisvideo:*:*:channel/Prod-?/*',
            },
          },
        ],
        'kinesisvideo:X',
        prod,
      ),
    ).toBe('ImplicitDeny');
    const notAction: PolicyDocument = {
      Statement: { Effect: 'Allow', NotAction: 'kinesisvideo:Delete*', Resource: '*' },
    };
    expect(evaluate([notAction], 'kinesisvideo:TagResource', CH)).toBe('Allow');
    expect(evaluate([notAction], 'kinesisvideo:DeleteSignalingChannel', CH)).toBe('ImplicitDeny');
    const notRes: PolicyDocument = { Statement: { Effect: 'Allow', Action: '*', NotResource: CH } };
    expect(evaluate([notRes], 'kinesisvideo:TagResource', CH)).toBe('ImplicitDeny');
    expect(evaluate([notRes], 'kinesisvideo:TagResource', OTHER)).toBe('Allow');
  });

  it('refuses policies it cannot evaluate faithfully', () => {
    for (const d of [EXAMPLE_1, EXAMPLE_2, EXAMPLE_3, EXAMPLE_4]) expect(validatePolicy(d)).toBe(d);
    expect(() =>
      validatePolicy({ Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] }),
    ).toThrow(/Effect/);
    expect(() => validatePolicy({ Statement: [{ Effect: 'Allow', Resource: '*' }] })).toThrow(
      /Action/,
    );
    expect(() =>
      validatePolicy({
        Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bool: {} } }],
      }),
    ).toThrow(/Condition/);
    expect(() => validatePolicy({ Version: '2099-01-01', Statement: [] })).toThrow(/Version/);
  });
});

describe('glob matching', () => {
  it('agrees with a regular-expression reference on a table and on bounded random cases', () => {
    const table: [string, string, boolean][] = [
      ['*', '', true],
      ['', '', true],
      ['a', '', false],
      ['a*b', 'ab', true],
      ['a*b', 'a-b-b', true],
      ['a*b*c', 'abbc', true],
      ['a*b*c', 'acb', false],
      ['?', 'x', true],
      ['?', '', false],
      ['*?*', 'x', true],
      ['a*?b', 'ab', false],
      ['channel/*-*-*-*-prod/*', 'channel/a-b-c-d-prod/1', true],
      ['channel/*-*-*-*-prod/*', 'channel/a-b-c-prod/1', false],
    ];
    for (const [p, t, want] of table) expect([p, t, globMatch(p, t)]).toEqual([p, t, want]);
    // A small alphabet makes overlapping pieces common, which is where greedy placement could err.
    const reference = (p: string, t: string): boolean =>
      new RegExp(
        `^${p.replace(/[-/]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`,
        's',
      ).test(t);
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const word = (alphabet: string, max: number): string =>
      Array.from({ length: rand(max + 1) }, () => alphabet[rand(alphabet.length)]).join('');
    for (let i = 0; i < 5000; i++) {
      const p = word('ab-*?', 7);
      const t = word('ab-', 9);
      expect([p, t, globMatch(p, t)]).toEqual([p, t, reference(p, t)]);
    }
  });

  it('keeps Action case-insensitive and Resource case-sensitive', () => {
    expect(matchAction('KINESISVIDEO:Describe*', 'kinesisvideo:describeSignalingChannel')).toBe(
      true,
    );
    expect(matchResource('arn:aws:kinesisvideo:*:*:channel/Cam*', CH)).toBe(false);
    expect(matchResource('arn:aws:kinesisvideo:*:*:channel/channel_*/*', CH)).toBe(true);
  });
});

describe('rate limiter', () => {
  it('allows `limit` calls per sliding second per key', () => {
    const r = new RateLimiter();
    expect([0, 10, 20, 30].map((t) => r.allow('k', 3, t))).toEqual([true, true, true, false]);
    expect(r.allow('other', 3, 30)).toBe(true);
    expect(r.allow('k', 3, 999)).toBe(false);
    expect(r.allow('k', 3, 1001)).toBe(true);
  });

  it('forgets keys idle for a window, at most every ten windows, so per-connection keys go', () => {
    const r = new RateLimiter();
    for (let i = 0; i < 500; i++) expect(r.allow(`sdp:conn-${i}`, 5, i)).toBe(true);
    expect(r.size).toBe(500);
    // 9.9 s after the first call: not yet time to prune.
    expect(r.allow('ice:late', 5, 9_900)).toBe(true);
    expect(r.size).toBe(501);
    // 10 s after the first call: everything idle for 1 s goes; the key in use stays, and so
    // does its count.
    expect(r.allow('ice:late', 1, 10_000)).toBe(false);
    expect(r.size).toBe(1);
    expect(r.allow('ice:late', 2, 10_001)).toBe(true);
    expect(r.allow('ice:late', 2, 10_002)).toBe(false);
  });
});

describe('TURN credentials', () => {
  it('are the coturn REST-API form: expiry:base64("v1:"+ARN) and HMAC-SHA1 of it', () => {
    const { Username, Password } = turnCredential('s3cret', CH, 300, 1_700_000_000_123);
    expect(Username).toBe(`1700000300:${Buffer.from(`v1:${CH}`).toString('base64')}`);
    expect(Password).toBe(createHmac('sha1', 's3cret').update(Username).digest('base64'));
    // Cross-check with OpenSSL, an implementation we did not write.
    const viaOpenssl = execFileSync('openssl', ['dgst', '-sha1', '-hmac', 's3cret', '-binary'], {
      input: Username,
    });
    expect(Password).toBe(viaOpenssl.toString('base64'));
    expect(channelArnOfUsername(Username)).toBe(CH);
    expect(channelArnOfUsername('123:not-ours')).toBeUndefined();
  });
});

describe('audit records', () => {
  it('follow the seed CloudTrail example', () => {
    expect(camelKeys({ ChannelName: 'a', Nested: [{ ChannelARN: 'b' }] })).toEqual({
      channelName: 'a',
      nested: [{ channelARN: 'b' }],
    });
    // A "__proto__" key in a parsed body stays a key of the record, not its prototype.
    const odd = camelKeys(JSON.parse('{"__proto__":{"X":1}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(odd)).toBe(Object.prototype);
    expect(JSON.stringify(odd)).toBe('{"__proto__":{"x":1}}');
    const rec = cloudTrailRecord({
      eventName: 'CreateSignalingChannel',
      identity: { accessKeyId: 'AKIAX', userName: 'Alice', accountId: '123456789012' },
      region: 'us-west-2',
      sourceIPAddress: '127.0.0.1',
      userAgent: 'aws-sdk-js/3',
      requestParameters: { ChannelName: 'YourChannelName' },
      responseElements: { ChannelARN: 'arn:x' },
      requestID: 'req-1',
      time: Date.UTC(2019, 10, 19, 22, 49, 4, 500),
    });
    expect(rec).toMatchObject({
      eventVersion: '1.05',
      userIdentity: {
        type: 'IAMUser',
        arn: 'arn:aws:iam::123456789012:user/Alice',
        accountId: '123456789012',
        accessKeyId: 'AKIAX',
        userName: 'Alice',
      },
      eventTime: '2019-11-19T22:49:04Z',
      eventSource: 'kinesisvideo.amazonaws.com',
      eventName: 'CreateSignalingChannel',
      awsRegion: 'us-west-2',
      requestParameters: { channelName: 'YourChannelName' },
      responseElements: { channelARN: 'arn:x' },
      requestID: 'req-1',
    });
    expect(rec).not.toHaveProperty('errorCode');
  });
});

describe('metrics', () => {
  it('render Prometheus text with escaped labels', () => {
    const m = new Metrics();
    m.recordCall('ConnectAsMaster', 'a"b', true, 3);
    m.recordCall('ConnectAsMaster', 'a"b', false, 5);
    m.messageTransferred('c', 2);
    m.turnConnected('c');
    const t = m.render();
    expect(t).toContain(
      'kvs_signaling_failure_sum{Operation="ConnectAsMaster",SignalingChannelName="a\\"b"} 1\n',
    );
    expect(t).toContain(
      'kvs_signaling_failure_count{Operation="ConnectAsMaster",SignalingChannelName="a\\"b"} 2\n',
    );
    expect(t).toContain(
      'kvs_signaling_latency_milliseconds_sum{Operation="ConnectAsMaster",SignalingChannelName="a\\"b"} 8\n',
    );
    expect(t).toContain('kvs_signaling_messages_transferred_total{ChannelName="c"} 2\n');
    expect(t).toContain('kvs_turn_connected_total{ChannelName="c"} 1\n');
    for (const line of t.trim().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? \d+(\.\d+)?)$/);
    }
  });
});

describe('validation and limits', () => {
  it('checks ARNs, ClientIds and tags as the model says', () => {
    expect(checkArn(CH)).toBe(CH);
    expect(() => checkArn('arn:aws:kinesisvideo:us-west-2:123:channel/a b/1')).toThrow();
    expect(() => checkClientId('AWS_x')).toThrow(/AWS_/);
    expect(checkClientId('AWSx')).toBe('AWSx');
    expect(() => checkTagKey('aws:reserved')).toThrow();
    expect(checkTagKey('Ünïcode key 1')).toBe('Ünïcode key 1');
    expect(tagList({ Tags: [{ Key: 'k', Value: 'v' }] }, 'Tags', 1)).toEqual({ k: 'v' });
  });

  it('defaults every limit to the seed and refuses nonsense', () => {
    expect(resolveLimits()).toEqual(DEFAULT_LIMITS);
    expect(DEFAULT_LIMITS).toMatchObject({
      maxViewers: 10,
      connectTpsPerChannel: 3,
      sdpTpsPerConnection: 5,
      iceTpsPerConnection: 20,
      maxPayloadChars: 10_000,
      idleTimeoutMs: 600_000,
      connectionLifetimeMs: 3_600_000,
      goAwayGraceMs: 60_000,
      turnCredentialTtlSeconds: 300,
    });
    expect(() => resolveLimits({ maxViewers: 0 })).toThrow(/maxViewers/);
  });
});

describe('principals', () => {
  it('refuses an expiration that is not a valid date, which would otherwise never expire', () => {
    const p = { accessKeyId: 'AKIABADDATE00000001', secretAccessKey: 's' };
    expect(() => new CredentialTable([{ ...p, expiration: new Date('not a date') }])).toThrow(
      /expiration must be a valid Date/,
    );
    const ok = new CredentialTable([{ ...p, expiration: new Date(Date.UTC(2030, 0, 1)) }]);
    expect(ok.lookup(p.accessKeyId)?.expiresAt).toBe(Date.UTC(2030, 0, 1));
  });
});

describe('TLS material', () => {
  it('makes a CA and a loopback server certificate once, and reuses them', () => {
    const dir = tempDir();
    try {
      const t = ensureTlsMaterial(dir);
      const ca = new X509Certificate(t.caCert);
      const srv = new X509Certificate(t.cert);
      expect(ca.ca).toBe(true);
      expect(srv.ca).toBe(false);
      expect(srv.checkIssued(ca)).toBe(true);
      expect(srv.verify(ca.publicKey)).toBe(true);
      expect(srv.checkHost('localhost')).toBe('localhost');
      expect(srv.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(srv.checkIP('::1')).toBe('::1');
      expect(srv.checkIP('10.0.0.1')).toBeUndefined();
      expect(t.caCertPath).toBe(join(dir, 'tls', 'ca.pem'));
      const again = ensureTlsMaterial(dir);
      expect(again.caCert).toBe(t.caCert);
      expect(again.cert).toBe(t.cert);
      // A lost server certificate is reissued by the same CA.
      rmSync(join(dir, 'tls', 'server.pem'));
      const reissued = ensureTlsMaterial(dir);
      expect(reissued.caCert).toBe(t.caCert);
      expect(reissued.cert).not.toBe(t.cert);
      expect(new X509Certificate(reissued.cert).checkIssued(ca)).toBe(true);
    } finally {
      removeDir(dir);
    }
  });
});

describe('channel store', () => {
  it('persists every change atomically and reloads it', () => {
    const dir = tempDir();
    try {
      const s = new ChannelStore(dir);
      const c = {
        name: 'a',
        arn: 'arn:aws:kinesisvideo:us-west-2:123456789012:channel/a/1',
        type: 'SINGLE_MASTER' as const,
        status: 'ACTIVE' as const,
        createdAt: 1,
        messageTtlSeconds: 60,
        version: 'v1',
        tags: { k: 'v' },
      };
      s.put(c);
      s.put({ ...c, name: 'b', arn: c.arn.replace('/a/', '/b/') });
      s.delete('a');
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      // A temp file left by a crash is ignored and cleared.
      writeFileSync(join(dir, '.channels.json.999.0.tmp'), '{"torn');
      const reloaded = new ChannelStore(dir);
      expect(reloaded.list().map((x) => x.name)).toEqual(['b']);
      expect(reloaded.byArn(c.arn.replace('/a/', '/b/'))?.tags).toEqual({ k: 'v' });
      expect(reloaded.byArn(c.arn.replace('/a/1', '/b/2'))).toBeUndefined();
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(JSON.parse(readFileSync(join(dir, 'channels.json'), 'utf8'))).toMatchObject({
        format: 1,
      });
    } finally {
      removeDir(dir);
    }
  });
});
