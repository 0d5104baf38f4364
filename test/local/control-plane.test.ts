/**
 * The control plane and the HTTPS data plane through the AWS SDK for JavaScript v3 clients:
 * every operation, the documented shapes, and every error the service answers.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateSignalingChannelCommand,
  DeleteSignalingChannelCommand,
  DescribeSignalingChannelCommand,
  GetSignalingChannelEndpointCommand,
  ListSignalingChannelsCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSignalingChannelCommand,
  type KinesisVideoClient,
} from '@aws-sdk/client-kinesis-video';
import {
  GetIceServerConfigCommand,
  SendAlexaOfferToMasterCommand,
} from '@aws-sdk/client-kinesis-video-signaling';
import type { LocalKvs } from '../../lib/local/index.js';
import {
  closeAll,
  connect,
  controlClient,
  fetchMetrics,
  rejection,
  removeDir,
  signalingClient,
  startTestService,
} from './helpers.js';

let svc: LocalKvs;
let dataDir: string;
let kv: KinesisVideoClient;

beforeAll(async () => {
  ({ svc, dataDir } = await startTestService({
    principals: [
      {
        // The seed's Example 1: read-only on every channel.
        accessKeyId: 'AKIAREADONLY0000001',
        secretAccessKey: 'read-only-secret',
        userName: 'reader',
        policies: [
          {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: ['kinesisvideo:Describe*', 'kinesisvideo:Get*', 'kinesisvideo:List*'],
                Resource: '*',
              },
            ],
          },
        ],
      },
      {
        // The seed's Example 2: may create channels and nothing else.
        accessKeyId: 'AKIACREATOR00000001',
        secretAccessKey: 'creator-secret',
        userName: 'creator',
        policies: [
          {
            Statement: [
              { Effect: 'Allow', Action: ['kinesisvideo:CreateSignalingChannel'], Resource: '*' },
            ],
          },
        ],
      },
      {
        // Full access, but an explicit Deny on deletes wins.
        accessKeyId: 'AKIANODELETE0000001',
        secretAccessKey: 'no-delete-secret',
        userName: 'no-delete',
        policies: [
          {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: 'kinesisvideo:*', Resource: '*' },
              { Effect: 'Deny', Action: 'kinesisvideo:Delete*', Resource: '*' },
            ],
          },
        ],
      },
      { accessKeyId: 'AKIANOPOLICY0000001', secretAccessKey: 'nothing', userName: 'nobody' },
    ],
  }));
  kv = controlClient(svc);
});

afterAll(async () => {
  await svc.stop({ graceful: false });
  removeDir(dataDir);
});

async function create(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await kv.send(new CreateSignalingChannelCommand({ ChannelName: name, ...extra }));
  return r.ChannelARN as string;
}

async function expectError(p: Promise<unknown>, name: string, status: number): Promise<Error> {
  const e = await rejection(p);
  expect(e.name).toBe(name);
  expect(e.$metadata?.httpStatusCode).toBe(status);
  return e;
}

describe('control plane shapes', () => {
  it('CreateSignalingChannel returns an ARN of the documented form and Describe the ChannelInfo', async () => {
    const before = Date.now();
    const arn = await create('shape-1', {
      ChannelType: 'SINGLE_MASTER',
      SingleMasterConfiguration: { MessageTtlSeconds: 30 },
      Tags: [{ Key: 'team', Value: 'video' }],
    });
    expect(arn).toMatch(/^arn:aws:kinesisvideo:us-west-2:123456789012:channel\/shape-1\/\d{13}$/);
    const byName = await kv.send(new DescribeSignalingChannelCommand({ ChannelName: 'shape-1' }));
    const byArn = await kv.send(new DescribeSignalingChannelCommand({ ChannelARN: arn }));
    expect(byName.ChannelInfo).toEqual(byArn.ChannelInfo);
    const info = byName.ChannelInfo;
    expect(info).toMatchObject({
      ChannelName: 'shape-1',
      ChannelARN: arn,
      ChannelType: 'SINGLE_MASTER',
      ChannelStatus: 'ACTIVE',
      SingleMasterConfiguration: { MessageTtlSeconds: 30 },
    });
    // The SDK turns the epoch-seconds number into a Date: proof of the wire type.
    expect(info?.CreationTime).toBeInstanceOf(Date);
    expect(info?.CreationTime?.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(info?.Version).toMatch(/^[a-zA-Z0-9]{1,64}$/);
  });

  it('defaults MessageTtlSeconds to 60', async () => {
    await create('ttl-default');
    const d = await kv.send(new DescribeSignalingChannelCommand({ ChannelName: 'ttl-default' }));
    expect(d.ChannelInfo?.SingleMasterConfiguration?.MessageTtlSeconds).toBe(60);
  });

  it('ListSignalingChannels paginates with NextToken and filters BEGINS_WITH', async () => {
    for (let i = 0; i < 5; i++) await create(`page-${i}`);
    const seen: string[] = [];
    let token: string | undefined;
    for (let round = 0; round < 10; round++) {
      const r = await kv.send(
        new ListSignalingChannelsCommand({
          MaxResults: 2,
          NextToken: token,
          ChannelNameCondition: { ComparisonOperator: 'BEGINS_WITH', ComparisonValue: 'page-' },
        }),
      );
      expect(r.ChannelInfoList?.length).toBeLessThanOrEqual(2);
      seen.push(...(r.ChannelInfoList ?? []).map((c) => c.ChannelName as string));
      token = r.NextToken;
      if (!token) break;
      expect(token).toMatch(/^[a-zA-Z0-9+/=]{1,1024}$/);
    }
    expect(seen).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    const all = await kv.send(new ListSignalingChannelsCommand({}));
    expect(all.NextToken).toBeUndefined();
    expect(all.ChannelInfoList?.map((c) => c.ChannelName)).toEqual(
      expect.arrayContaining(['page-0', 'page-4', 'shape-1']),
    );
  });

  it('UpdateSignalingChannel checks the version and issues a new one', async () => {
    const arn = await create('upd-1');
    const v1 = (await kv.send(new DescribeSignalingChannelCommand({ ChannelARN: arn }))).ChannelInfo
      ?.Version as string;
    await kv.send(
      new UpdateSignalingChannelCommand({
        ChannelARN: arn,
        CurrentVersion: v1,
        SingleMasterConfiguration: { MessageTtlSeconds: 100 },
      }),
    );
    const after = (await kv.send(new DescribeSignalingChannelCommand({ ChannelARN: arn })))
      .ChannelInfo;
    expect(after?.SingleMasterConfiguration?.MessageTtlSeconds).toBe(100);
    expect(after?.Version).not.toBe(v1);
    await expectError(
      kv.send(
        new UpdateSignalingChannelCommand({
          ChannelARN: arn,
          CurrentVersion: v1,
          SingleMasterConfiguration: { MessageTtlSeconds: 10 },
        }),
      ),
      'VersionMismatchException',
      400,
    );
  });

  it('DeleteSignalingChannel checks an optional version, then the channel is gone', async () => {
    const arn = await create('del-1');
    await expectError(
      kv.send(new DeleteSignalingChannelCommand({ ChannelARN: arn, CurrentVersion: 'wrong1' })),
      'VersionMismatchException',
      400,
    );
    await kv.send(new DeleteSignalingChannelCommand({ ChannelARN: arn }));
    await expectError(
      kv.send(new DescribeSignalingChannelCommand({ ChannelARN: arn })),
      'ResourceNotFoundException',
      404,
    );
    await expectError(
      kv.send(new DeleteSignalingChannelCommand({ ChannelARN: arn })),
      'ResourceNotFoundException',
      404,
    );
  });

  it('GetSignalingChannelEndpoint answers the protocols asked for, in order', async () => {
    const arn = await create('ep-1');
    const r = await kv.send(
      new GetSignalingChannelEndpointCommand({
        ChannelARN: arn,
        SingleMasterChannelEndpointConfiguration: { Protocols: ['HTTPS', 'WSS'], Role: 'VIEWER' },
      }),
    );
    expect(r.ResourceEndpointList).toEqual([
      { Protocol: 'HTTPS', ResourceEndpoint: svc.endpoint },
      { Protocol: 'WSS', ResourceEndpoint: svc.endpoint.replace('https://', 'wss://') },
    ]);
  });

  it('TagResource, ListTagsForResource (a map) and UntagResource', async () => {
    const arn = await create('tags-1', { Tags: [{ Key: 'a', Value: '1' }] });
    await kv.send(
      new TagResourceCommand({
        ResourceARN: arn,
        Tags: [
          { Key: 'b', Value: '2' },
          { Key: 'a', Value: '3' },
        ],
      }),
    );
    expect((await kv.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual({
      a: '3',
      b: '2',
    });
    await kv.send(new UntagResourceCommand({ ResourceARN: arn, TagKeyList: ['a', 'missing'] }));
    const r = await kv.send(new ListTagsForResourceCommand({ ResourceARN: arn }));
    expect(r.Tags).toEqual({ b: '2' });
    expect(r.NextToken).toBeUndefined();
  });
});

describe('control plane errors', () => {
  it('ResourceInUseException for a duplicate name', async () => {
    await create('dup-1');
    await expectError(create('dup-1'), 'ResourceInUseException', 400);
  });

  it('ResourceNotFoundException for unknown channels on every channel operation', async () => {
    const ghost = 'arn:aws:kinesisvideo:us-west-2:123456789012:channel/ghost/1234567890123';
    await expectError(
      kv.send(new DescribeSignalingChannelCommand({ ChannelName: 'ghost' })),
      'ResourceNotFoundException',
      404,
    );
    await expectError(
      kv.send(new DescribeSignalingChannelCommand({ ChannelARN: ghost })),
      'ResourceNotFoundException',
      404,
    );
    await expectError(
      kv.send(new UpdateSignalingChannelCommand({ ChannelARN: ghost, CurrentVersion: 'abc' })),
      'ResourceNotFoundException',
      404,
    );
    await expectError(
      kv.send(new GetSignalingChannelEndpointCommand({ ChannelARN: ghost })),
      'ResourceNotFoundException',
      404,
    );
    await expectError(
      kv.send(new TagResourceCommand({ ResourceARN: ghost, Tags: [{ Key: 'k', Value: 'v' }] })),
      'ResourceNotFoundException',
      404,
    );
    await expectError(
      kv.send(new UntagResourceCommand({ ResourceARN: ghost, TagKeyList: ['k'] })),
      'ResourceNotFoundException',
      404,
    );
    await expectError(
      kv.send(new ListTagsForResourceCommand({ ResourceARN: ghost })),
      'ResourceNotFoundException',
      404,
    );
  });

  it('InvalidArgumentException for each constraint', async () => {
    const arn = await create('constraints-1');
    const cases: [string, Promise<unknown>][] = [
      ['name missing', kv.send(new CreateSignalingChannelCommand({} as never))],
      ['name empty', kv.send(new CreateSignalingChannelCommand({ ChannelName: '' }))],
      [
        'name too long',
        kv.send(new CreateSignalingChannelCommand({ ChannelName: 'a'.repeat(257) })),
      ],
      ['name bad chars', kv.send(new CreateSignalingChannelCommand({ ChannelName: 'bad name!' }))],
      [
        'type',
        kv.send(new CreateSignalingChannelCommand({ ChannelName: 'x1', ChannelType: 'FULL_MESH' })),
      ],
      [
        'ttl low',
        kv.send(
          new CreateSignalingChannelCommand({
            ChannelName: 'x2',
            SingleMasterConfiguration: { MessageTtlSeconds: 4 },
          }),
        ),
      ],
      [
        'ttl high',
        kv.send(
          new CreateSignalingChannelCommand({
            ChannelName: 'x3',
            SingleMasterConfiguration: { MessageTtlSeconds: 121 },
          }),
        ),
      ],
      [
        'too many tags',
        kv.send(
          new CreateSignalingChannelCommand({
            ChannelName: 'x4',
            Tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
          }),
        ),
      ],
      [
        'tag key long',
        kv.send(
          new CreateSignalingChannelCommand({
            ChannelName: 'x5',
            Tags: [{ Key: 'k'.repeat(129), Value: '' }],
          }),
        ),
      ],
      [
        'tag key empty',
        kv.send(
          new CreateSignalingChannelCommand({ ChannelName: 'x6', Tags: [{ Key: '', Value: '' }] }),
        ),
      ],
      [
        'tag value long',
        kv.send(
          new CreateSignalingChannelCommand({
            ChannelName: 'x7',
            Tags: [{ Key: 'k', Value: 'v'.repeat(257) }],
          }),
        ),
      ],
      ['describe neither', kv.send(new DescribeSignalingChannelCommand({}))],
      ['bad arn', kv.send(new DescribeSignalingChannelCommand({ ChannelARN: 'arn:nope' }))],
      [
        'arn too long',
        kv.send(new DescribeSignalingChannelCommand({ ChannelARN: `${arn}${'1'.repeat(1024)}` })),
      ],
      ['max results 0', kv.send(new ListSignalingChannelsCommand({ MaxResults: 0 }))],
      ['max results big', kv.send(new ListSignalingChannelsCommand({ MaxResults: 10001 }))],
      ['next token chars', kv.send(new ListSignalingChannelsCommand({ NextToken: 'bad token!' }))],
      ['next token foreign', kv.send(new ListSignalingChannelsCommand({ NextToken: 'AAAA' }))],
      [
        'comparison op',
        kv.send(
          new ListSignalingChannelsCommand({
            ChannelNameCondition: {
              ComparisonOperator: 'ENDS_WITH' as never,
              ComparisonValue: 'a',
            },
          }),
        ),
      ],
      [
        'update no version',
        kv.send(new UpdateSignalingChannelCommand({ ChannelARN: arn } as never)),
      ],
      [
        'update bad version',
        kv.send(new UpdateSignalingChannelCommand({ ChannelARN: arn, CurrentVersion: 'a-b' })),
      ],
      [
        'version too long',
        kv.send(
          new DeleteSignalingChannelCommand({ ChannelARN: arn, CurrentVersion: 'a'.repeat(65) }),
        ),
      ],
      [
        'protocols empty',
        kv.send(
          new GetSignalingChannelEndpointCommand({
            ChannelARN: arn,
            SingleMasterChannelEndpointConfiguration: { Protocols: [] },
          }),
        ),
      ],
      [
        'protocol unknown',
        kv.send(
          new GetSignalingChannelEndpointCommand({
            ChannelARN: arn,
            SingleMasterChannelEndpointConfiguration: { Protocols: ['FTP' as never] },
          }),
        ),
      ],
      [
        'role unknown',
        kv.send(
          new GetSignalingChannelEndpointCommand({
            ChannelARN: arn,
            SingleMasterChannelEndpointConfiguration: { Role: 'OWNER' as never },
          }),
        ),
      ],
      ['tag none', kv.send(new TagResourceCommand({ ResourceARN: arn, Tags: [] }))],
      ['untag none', kv.send(new UntagResourceCommand({ ResourceARN: arn, TagKeyList: [] }))],
      [
        'untag key long',
        kv.send(new UntagResourceCommand({ ResourceARN: arn, TagKeyList: ['k'.repeat(129)] })),
      ],
      [
        'list tags token',
        kv.send(new ListTagsForResourceCommand({ ResourceARN: arn, NextToken: '!!' })),
      ],
    ];
    for (const [label, p] of cases) {
      const e = await rejection(p);
      expect({ label, name: e.name, status: e.$metadata?.httpStatusCode }).toEqual({
        label,
        name: 'InvalidArgumentException',
        status: 400,
      });
    }
  });

  it('TagsPerResourceExceededLimitException past 50 tags on a resource', async () => {
    const arn = await create('tags-limit', {
      Tags: Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
    });
    await expectError(
      kv.send(
        new TagResourceCommand({ ResourceARN: arn, Tags: [{ Key: 'one-more', Value: 'v' }] }),
      ),
      'TagsPerResourceExceededLimitException',
      400,
    );
  });

  it('puts the name in x-amzn-ErrorType and __type, the text in Message, and answers CORS', async () => {
    const raw = await new Promise<{
      status: number;
      headers: Record<string, unknown>;
      body: string;
    }>((resolve, reject) => {
      const req = request(
        `${svc.endpoint}/describeSignalingChannel`,
        { method: 'POST', ca: svc.caCert, headers: { 'content-type': 'application/json' } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(raw.status).toBe(403);
    expect(String(raw.headers['x-amzn-errortype'])).toMatch(
      /^MissingAuthenticationTokenException:/,
    );
    expect(JSON.parse(raw.body)).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
    expect(raw.headers['x-amzn-requestid']).toBeTruthy();

    const pre = await new Promise<{ status: number; headers: Record<string, unknown> }>(
      (resolve, reject) => {
        const req = request(
          `${svc.endpoint}/createSignalingChannel`,
          {
            method: 'OPTIONS',
            ca: svc.caCert,
            headers: {
              origin: 'http://localhost:3000',
              'access-control-request-method': 'POST',
              'access-control-request-headers': 'authorization,x-amz-date',
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expect(pre.status).toBe(200);
    expect(pre.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(String(pre.headers['access-control-allow-headers'])).toContain('x-amz-security-token');
    expect(String(pre.headers['access-control-expose-headers'])).toContain('x-amzn-ErrorType');
  });

  it('refuses a wrong secret and an unknown key', async () => {
    const bad = controlClient(svc, {
      accessKeyId: svc.credentials.accessKeyId,
      secretAccessKey: 'wrong',
    });
    await expectError(
      bad.send(new ListSignalingChannelsCommand({})),
      'InvalidSignatureException',
      403,
    );
    const unknown = controlClient(svc, {
      accessKeyId: 'AKIAUNKNOWN000000000',
      secretAccessKey: 'x',
    });
    await expectError(
      unknown.send(new ListSignalingChannelsCommand({})),
      'UnrecognizedClientException',
      403,
    );
  });
});

describe('IAM policies (the seed examples)', () => {
  const reader = { accessKeyId: 'AKIAREADONLY0000001', secretAccessKey: 'read-only-secret' };
  const creator = { accessKeyId: 'AKIACREATOR00000001', secretAccessKey: 'creator-secret' };

  it('Example 1: read-only may Describe, Get and List, but not create or tag', async () => {
    const arn = await create('pol-1');
    const c = controlClient(svc, reader);
    await c.send(new DescribeSignalingChannelCommand({ ChannelARN: arn }));
    await c.send(new GetSignalingChannelEndpointCommand({ ChannelARN: arn }));
    await c.send(new ListSignalingChannelsCommand({}));
    await c.send(new ListTagsForResourceCommand({ ResourceARN: arn }));
    const e = await expectError(
      c.send(new CreateSignalingChannelCommand({ ChannelName: 'pol-1-x' })),
      'AccessDeniedException',
      401,
    );
    expect(e.message).toContain('kinesisvideo:CreateSignalingChannel');
    await expectError(
      c.send(new TagResourceCommand({ ResourceARN: arn, Tags: [{ Key: 'a', Value: 'b' }] })),
      'AccessDeniedException',
      401,
    );
  });

  it('Example 2: the creator may create, and nothing else', async () => {
    const c = controlClient(svc, creator);
    const arn = (await c.send(new CreateSignalingChannelCommand({ ChannelName: 'pol-2' })))
      .ChannelARN as string;
    await expectError(
      c.send(new DescribeSignalingChannelCommand({ ChannelARN: arn })),
      'AccessDeniedException',
      401,
    );
    await expectError(c.send(new ListSignalingChannelsCommand({})), 'AccessDeniedException', 401);
  });

  it('Example 4: a policy for one channel ARN allows Describe on it only', async () => {
    const arn = await create('pol-4');
    const other = await create('pol-4-other');
    const { svc: s2 } = await startTestService({
      dataDir,
      principals: [
        {
          accessKeyId: 'AKIAONECHANNEL00001',
          secretAccessKey: 'one',
          policies: [
            {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Action: 'kinesisvideo:DescribeSignalingChannel', Resource: arn },
              ],
            },
          ],
        },
      ],
    });
    try {
      const c = controlClient(s2, { accessKeyId: 'AKIAONECHANNEL00001', secretAccessKey: 'one' });
      const d = await c.send(new DescribeSignalingChannelCommand({ ChannelARN: arn }));
      expect(d.ChannelInfo?.ChannelARN).toBe(arn);
      await expectError(
        c.send(new DescribeSignalingChannelCommand({ ChannelARN: other })),
        'AccessDeniedException',
        401,
      );
      await expectError(
        c.send(new GetSignalingChannelEndpointCommand({ ChannelARN: arn })),
        'AccessDeniedException',
        401,
      );
    } finally {
      await s2.stop({ graceful: false });
    }
  });

  it('an explicit Deny wins over an Allow, and no policy denies everything', async () => {
    const arn = await create('pol-deny');
    const c = controlClient(svc, {
      accessKeyId: 'AKIANODELETE0000001',
      secretAccessKey: 'no-delete-secret',
    });
    await c.send(new DescribeSignalingChannelCommand({ ChannelARN: arn }));
    await expectError(
      c.send(new DeleteSignalingChannelCommand({ ChannelARN: arn })),
      'AccessDeniedException',
      401,
    );
    const none = controlClient(svc, {
      accessKeyId: 'AKIANOPOLICY0000001',
      secretAccessKey: 'nothing',
    });
    await expectError(
      none.send(new ListSignalingChannelsCommand({})),
      'AccessDeniedException',
      401,
    );
  });

  it('the data plane answers NotAuthorizedException under a policy without the action', async () => {
    const arn = await create('pol-dp');
    const sc = signalingClient(svc, svc.endpoint, {
      accessKeyId: 'AKIACREATOR00000001',
      secretAccessKey: 'creator-secret',
    });
    await expectError(
      sc.send(new GetIceServerConfigCommand({ ChannelARN: arn })),
      'NotAuthorizedException',
      401,
    );
  });
});

describe('data plane', () => {
  it('GetIceServerConfig returns no TURN servers when TURN is off, and validates input', async () => {
    const arn = await create('dp-ice');
    const sc = signalingClient(svc, svc.endpoint);
    const r = await sc.send(
      new GetIceServerConfigCommand({ ChannelARN: arn, ClientId: 'c1', Service: 'TURN' }),
    );
    expect(r.IceServerList).toEqual([]);
    await expectError(
      sc.send(new GetIceServerConfigCommand({ ChannelARN: arn, Service: 'STUN' as never })),
      'InvalidArgumentException',
      400,
    );
    await expectError(
      sc.send(
        new GetIceServerConfigCommand({
          ChannelARN: 'arn:aws:kinesisvideo:us-west-2:123456789012:channel/none/1',
        }),
      ),
      'ResourceNotFoundException',
      404,
    );
  });

  it('SendAlexaOfferToMaster delivers the offer to the master and returns its answer', async () => {
    const arn = await create('dp-alexa');
    const sc = signalingClient(svc, svc.endpoint);
    await expectError(
      sc.send(
        new SendAlexaOfferToMasterCommand({
          ChannelARN: arn,
          SenderClientId: 'alexa-1',
          MessagePayload: 'b2ZmZXI=',
        }),
      ),
      'ResourceNotFoundException',
      404,
    );
    const master = await connect(svc, arn);
    try {
      const pending = sc.send(
        new SendAlexaOfferToMasterCommand({
          ChannelARN: arn,
          SenderClientId: 'alexa-1',
          MessagePayload: 'b2ZmZXI=',
        }),
      );
      const offer = await master.next();
      expect(offer).toEqual({
        senderClientId: 'alexa-1',
        messageType: 'SDP_OFFER',
        messagePayload: 'b2ZmZXI=',
      });
      master.send({
        action: 'SDP_ANSWER',
        recipientClientId: 'alexa-1',
        messagePayload: 'YW5zd2Vy',
      });
      expect((await pending).Answer).toBe('YW5zd2Vy');
      await expectError(
        sc.send(
          new SendAlexaOfferToMasterCommand({
            ChannelARN: arn,
            SenderClientId: 'alexa-1',
            MessagePayload: 'x'.repeat(10001),
          }),
        ),
        'InvalidArgumentException',
        400,
      );
    } finally {
      await closeAll(master);
    }
  });
});

describe('audit and metrics', () => {
  it('writes CloudTrail-shaped records of control-plane calls', async () => {
    const arn = await create('audit-1');
    const lines = readFileSync(svc.auditLogPath, 'utf8').trim().split('\n');
    const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const rec = recs.find(
      (r) =>
        r['eventName'] === 'CreateSignalingChannel' &&
        (r['requestParameters'] as Record<string, unknown>)['channelName'] === 'audit-1',
    );
    expect(rec).toMatchObject({
      eventVersion: '1.05',
      userIdentity: {
        type: 'IAMUser',
        accountId: '123456789012',
        accessKeyId: svc.credentials.accessKeyId,
        userName: 'local-admin',
        arn: 'arn:aws:iam::123456789012:user/local-admin',
      },
      eventSource: 'kinesisvideo.amazonaws.com',
      eventName: 'CreateSignalingChannel',
      awsRegion: 'us-west-2',
      sourceIPAddress: '127.0.0.1',
      requestParameters: { channelName: 'audit-1' },
      responseElements: { channelARN: arn },
    });
    expect(String(rec?.['eventTime'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(rec?.['requestID']).toMatch(/^[0-9a-f-]{36}$/);
    expect(rec?.['eventID']).toMatch(/^[0-9a-f-]{36}$/);
    expect(String(rec?.['userAgent'])).toContain('aws-sdk-js');
    const failed = recs.find((r) => r['errorCode'] === 'ResourceInUseException');
    expect(failed).toBeDefined();
  });

  it('exposes Failure, Latency and MessagesTransferred in Prometheus text at /metrics', async () => {
    const arn = await create('metrics-1');
    const master = await connect(svc, arn);
    const viewer = await connect(svc, arn, 'mv1');
    try {
      viewer.send({ action: 'SDP_OFFER', messagePayload: 'b2ZmZXI=' });
      await master.next();
      await rejection(connect(svc, arn, 'AWS_bad'));
    } finally {
      await closeAll(master, viewer);
    }
    const text = await fetchMetrics(svc);
    expect(text).toContain('# TYPE kvs_signaling_failure summary');
    expect(text).toMatch(
      /kvs_signaling_failure_sum\{Operation="ConnectAsMaster",SignalingChannelName="metrics-1"\} 0\n/,
    );
    expect(text).toMatch(
      /kvs_signaling_failure_count\{Operation="SendSdpOffer",SignalingChannelName="metrics-1"\} 1\n/,
    );
    expect(text).toMatch(
      /kvs_signaling_failure_sum\{Operation="ConnectAsViewer",SignalingChannelName=""\} 1\n/,
    );
    expect(text).toMatch(
      /kvs_signaling_latency_milliseconds_count\{Operation="ConnectAsViewer",SignalingChannelName="metrics-1"\} 1\n/,
    );
    expect(text).toMatch(/kvs_signaling_messages_transferred_total\{ChannelName="metrics-1"\} 2\n/);
  });
});
