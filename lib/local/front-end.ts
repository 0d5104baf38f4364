/**
 * The HTTPS front end: CORS, body reading, SigV4 verification, policy checks, quotas,
 * dispatch to the operations, the error wire format, audit records and metrics; and the
 * WebSocket upgrade with its presigned-URL check.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { AuditLog } from './audit.js';
import type { CredentialTable, Principal } from './credentials.js';
import { accessDenied, invalidArgument, serialization, ServiceError } from './errors.js';
import type { Metrics, SignalingOperation } from './metrics.js';
import { ROUTES, type CallContext, type ServiceContext } from './operations.js';
import { evaluate } from './policy.js';
import type { Role, SignalingHub } from './signaling.js';
import {
  verifyHeaderSigned,
  verifyPresigned,
  type SigV4Request,
  type VerifyOptions,
} from './sigv4.js';
import { checkArn, checkClientId } from './validate.js';
import { serveViewerPage } from './viewer-page.js';

const MAX_BODY = 1 << 20;
const ERROR_NAMESPACE = ':https://kinesisvideo.amazonaws.com/doc/2017-09-30/';
const CORS_HEADERS = {
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS',
  'Access-Control-Allow-Headers':
    'authorization, content-type, x-amz-date, x-amz-security-token, x-amz-user-agent, x-amz-content-sha256, amz-sdk-invocation-id, amz-sdk-request',
  'Access-Control-Expose-Headers': 'x-amzn-ErrorType, x-amzn-RequestId',
  'Access-Control-Max-Age': '600',
};

export interface FrontEndDeps {
  svc: ServiceContext;
  credentials: CredentialTable;
  hub: SignalingHub;
  metrics: Metrics;
  audit: AuditLog;
  wss: WebSocketServer;
  log: (line: string) => void;
}

function splitUrl(url: string | undefined): { path: string; query: string } {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q < 0 ? { path: u, query: '' } : { path: u.slice(0, q), query: u.slice(q + 1) };
}

/**
 * Past MAX_BODY the service still reads (and discards) up to this much more before it answers
 * 413: Node closes the connection right after that answer, and a client still sending its body
 * would get a reset instead of the answer. Beyond it, the answer goes at once.
 */
const MAX_DISCARD = 8 << 20;

const tooLarge = (): ServiceError =>
  new ServiceError(
    'RequestEntityTooLargeException',
    413,
    `The request body is larger than ${MAX_BODY} bytes.`,
  );

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY + MAX_DISCARD) {
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY + MAX_DISCARD) {
        reject(tooLarge());
        return;
      }
      if (size > MAX_BODY) {
        chunks.length = 0; // refused already: keep nothing, answer at the end
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => (size > MAX_BODY ? reject(tooLarge()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function errorBody(e: ServiceError): string {
  return JSON.stringify(
    e.lowercaseMessageKey
      ? { __type: e.type, message: e.message }
      : { __type: e.type, Message: e.message },
  );
}

function verifyOptions(deps: FrontEndDeps): VerifyOptions {
  const { svc, credentials } = deps;
  return {
    region: svc.region,
    service: 'kinesisvideo',
    now: svc.now(),
    clockSkewMs: svc.limits.clockSkewMs,
    lookup: (id) => credentials.lookup(id),
  };
}

function denyMessage(svc: ServiceContext, p: Principal, action: string, resource: string): string {
  return `User: arn:aws:iam::${svc.accountId}:user/${p.userName} is not authorized to perform: ${action} on resource: ${resource}`;
}

export function handleHttp(deps: FrontEndDeps, req: IncomingMessage, res: ServerResponse): void {
  const started = deps.svc.now();
  const requestId = randomUUID();
  const { path, query } = splitUrl(req.url);
  // /metrics is unauthenticated: no CORS, so that no web page the user visits can read it.
  // The API paths echo the Origin: they need a SigV4 signature, which a page cannot forge.
  if (path !== '/metrics') {
    const origin = req.headers['origin'];
    res.setHeader('Access-Control-Allow-Origin', typeof origin === 'string' ? origin : '*');
    if (typeof origin === 'string') res.setHeader('Vary', 'Origin');
    for (const [k, v] of Object.entries(CORS_HEADERS)) res.setHeader(k, v);
  }
  res.setHeader('x-amzn-RequestId', requestId);

  if (req.method === 'OPTIONS') {
    res.writeHead(200, { 'Content-Length': '0' }).end();
    return;
  }
  if (req.method === 'GET' && path === '/metrics') {
    const text = deps.metrics.render();
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text);
    return;
  }
  if (req.method === 'GET' && path.startsWith('/viewer') && serveViewerPage(path, res, deps.log)) {
    return;
  }
  const op = ROUTES.get(path);
  const sendError = (e: ServiceError): void => {
    const body = errorBody(e);
    res
      .writeHead(e.status, {
        'Content-Type': 'application/json',
        'x-amzn-ErrorType': `${e.type}${ERROR_NAMESPACE}`,
        'Content-Length': String(Buffer.byteLength(body)),
        // An oversized body may not have been read to its end: the connection is not reused.
        ...(e.status === 413 ? { Connection: 'close' } : {}),
      })
      .end(body);
  };
  if (!op || req.method !== 'POST') {
    req.resume();
    sendError(
      new ServiceError('UnknownOperationException', 404, `No operation at ${req.method} ${path}.`),
    );
    return;
  }

  let principal: Principal | undefined;
  let params: unknown;
  const call: CallContext = {
    authorize: (resource) => {
      if (!principal) throw accessDenied('No principal.');
      if (op.plane === 'admin') {
        // Admin calls are the local service's own: only the default key pair may make them.
        if (!principal.admin) {
          throw accessDenied(`${principal.userName} may not call the local admin API.`, 403);
        }
        return;
      }
      const action = `kinesisvideo:${op.name}`;
      if (evaluate(principal.policies, action, resource, principal.policyVariables) !== 'Allow') {
        const msg = denyMessage(deps.svc, principal, action, resource);
        throw op.plane === 'control'
          ? accessDenied(msg, 401)
          : new ServiceError('NotAuthorizedException', 401, msg);
      }
    },
  };
  const finish = (status: number, result: unknown, err?: ServiceError): void => {
    const latency = deps.svc.now() - started;
    if (op.plane === 'data') {
      deps.metrics.recordCall(
        op.name as SignalingOperation,
        call.channelName ?? '',
        status === 200,
        latency,
      );
    } else if (op.plane === 'control') {
      try {
        deps.audit.write({
          eventName: op.name,
          identity: principal && {
            accessKeyId: principal.accessKeyId,
            userName: principal.userName,
            accountId: deps.svc.accountId,
          },
          region: deps.svc.region,
          sourceIPAddress: req.socket.remoteAddress ?? '',
          userAgent: String(req.headers['x-amz-user-agent'] ?? req.headers['user-agent'] ?? ''),
          requestParameters: params ?? null,
          responseElements: err ? null : result,
          requestID: requestId,
          ...(err ? { errorCode: err.type, errorMessage: err.message } : {}),
          time: started,
        });
      } catch (e) {
        deps.log(`audit write failed: ${(e as Error).message}`);
      }
    }
  };

  readBody(req)
    .then(async (body) => {
      const sreq: SigV4Request = { method: 'POST', path, query, headers: req.headers, body };
      const verified = verifyHeaderSigned(sreq, verifyOptions(deps));
      if (!verified.ok) throw new ServiceError(verified.code, 403, verified.message);
      principal = deps.credentials.lookup(verified.credential.accessKeyId);
      const text = body.toString('utf8');
      try {
        params = text.trim() === '' ? {} : JSON.parse(text);
      } catch {
        throw serialization('The request body is not valid JSON.');
      }
      if (typeof params !== 'object' || params === null || Array.isArray(params)) {
        throw invalidArgument('The request body must be a JSON object.');
      }
      if (op.plane === 'control')
        deps.svc.rate(`cp:${op.name}`, deps.svc.limits.controlPlaneTps, 'account');
      const result = await op.run(params as Record<string, unknown>, deps.svc, call);
      const out = JSON.stringify(result);
      res
        .writeHead(200, {
          'Content-Type': 'application/json',
          'Content-Length': String(Buffer.byteLength(out)),
        })
        .end(out);
      finish(200, result);
    })
    .catch((e: unknown) => {
      const err =
        e instanceof ServiceError
          ? e
          : new ServiceError('InternalFailure', 500, 'The service encountered an internal error.');
      if (!(e instanceof ServiceError))
        deps.log(`internal error: ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) sendError(err);
      finish(err.status, undefined, err);
    });
}

function rejectUpgrade(socket: Duplex, e: ServiceError): void {
  const body = errorBody(e);
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      // As the real service does: clients correct their clock from it after a skew refusal.
      `Date: ${new Date().toUTCString()}\r\n` +
      `x-amzn-ErrorType: ${e.type}${ERROR_NAMESPACE}\r\nx-amzn-RequestId: ${randomUUID()}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** ConnectAsMaster / ConnectAsViewer: the presigned WebSocket handshake. */
export function handleUpgrade(
  deps: FrontEndDeps,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const started = deps.svc.now();
  socket.on('error', () => socket.destroy());
  const { path, query } = splitUrl(req.url);
  const params = new URLSearchParams(query);
  const clientId = params.get('X-Amz-ClientId') ?? undefined;
  const role: Role = clientId === undefined ? 'MASTER' : 'VIEWER';
  const op: SignalingOperation = role === 'MASTER' ? 'ConnectAsMaster' : 'ConnectAsViewer';
  const arnParam = params.get('X-Amz-ChannelARN') ?? '';
  let channelName = '';
  const reject = (e: ServiceError): void => {
    deps.metrics.recordCall(op, channelName, false, deps.svc.now() - started);
    rejectUpgrade(socket, e);
  };
  try {
    if (path !== '/')
      throw new ServiceError('ResourceNotFoundException', 404, `No WebSocket endpoint at ${path}.`);
    const verified = verifyPresigned(
      { method: 'GET', path, query, headers: req.headers, body: Buffer.alloc(0) },
      verifyOptions(deps),
    );
    if (!verified.ok) throw accessDenied(`${verified.code}: ${verified.message}`, 403);
    const principal = deps.credentials.lookup(verified.credential.accessKeyId) as Principal;
    const arn = checkArn(arnParam, 'X-Amz-ChannelARN');
    if (clientId !== undefined) checkClientId(clientId, 'X-Amz-ClientId');
    const action = `kinesisvideo:${op}`;
    if (evaluate(principal.policies, action, arn, principal.policyVariables) !== 'Allow') {
      throw accessDenied(denyMessage(deps.svc, principal, action, arn), 403);
    }
    const channel = deps.hub.admit(arn, role, clientId);
    channelName = channel.name;
    deps.wss.handleUpgrade(req, socket, head, (ws) => {
      deps.hub.attach(ws, role, channel, clientId);
      deps.metrics.recordCall(op, channel.name, true, deps.svc.now() - started);
    });
  } catch (e) {
    if (!(e instanceof ServiceError))
      deps.log(`internal error: ${(e as Error).stack ?? String(e)}`);
    reject(
      e instanceof ServiceError
        ? e
        : new ServiceError('InternalFailure', 500, 'The service encountered an internal error.'),
    );
  }
}
