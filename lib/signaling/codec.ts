/**
 * The WebSocket signaling message codec: builds and validates what the client sends, and
 * parses what the service delivers (kvs-wire.md §3). Pure: no I/O, no state.
 */
import { describeValue, readFields } from '../args.js';
import { KvsError } from '../errors.js';

export type SignalingRole = 'MASTER' | 'VIEWER';
export type OutgoingAction = 'SDP_OFFER' | 'SDP_ANSWER' | 'ICE_CANDIDATE';
export type IncomingMessageType =
  | 'SDP_OFFER'
  | 'SDP_ANSWER'
  | 'ICE_CANDIDATE'
  | 'STATUS_RESPONSE'
  | 'GO_AWAY'
  | 'RECONNECT_ICE_SERVER';

/** An SDP offer or answer, as RTCSessionDescriptionInit. */
export interface SessionDescription {
  type: 'offer' | 'answer';
  sdp: string;
}

/** An ICE candidate, as RTCIceCandidateInit. */
export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

export interface StatusResponse {
  correlationId: string;
  errorType: string;
  statusCode: string;
  description: string;
}

/** The service's limit on `messagePayload` (base64 characters): "Maximum length of 10K". */
export const MAX_PAYLOAD_CHARS = 10_000;
/** ClientId: 1-256 of `[a-zA-Z0-9_-]`, not starting with `AWS_`. */
export const CLIENT_ID_RE = /^[a-zA-Z0-9_-]{1,256}$/;
/** correlationId: 1-256 of `[a-zA-Z0-9_.-]`. */
export const CORRELATION_ID_RE = /^[a-zA-Z0-9_.-]{1,256}$/;

function invalid(message: string): KvsError {
  return new KvsError('ERR_INVALID_ARGUMENT', message);
}

/** Throws unless `id` is a valid client id; `field` names it in the message. */
export function checkClientId(id: unknown, field: string): string {
  if (typeof id !== 'string' || !CLIENT_ID_RE.test(id)) {
    throw invalid(`${field} must be 1-256 characters of [a-zA-Z0-9_-], got ${describeValue(id)}`);
  }
  if (id.startsWith('AWS_')) throw invalid(`${field} must not start with "AWS_", got "${id}"`);
  return id;
}

export function checkCorrelationId(id: unknown): string {
  if (typeof id !== 'string' || !CORRELATION_ID_RE.test(id)) {
    throw invalid(
      `correlationId must be 1-256 characters of [a-zA-Z0-9_.-], got ${describeValue(id)}`,
    );
  }
  return id;
}

export interface OutgoingMessage {
  action: OutgoingAction;
  /** Whom a master sends to; a viewer must leave it out (its messages go to the master). */
  recipientClientId?: string | undefined;
  correlationId?: string | undefined;
  /** The object that becomes the base64 JSON `messagePayload`. */
  payload: SessionDescription | IceCandidate;
}

const OUTGOING: readonly OutgoingAction[] = ['SDP_OFFER', 'SDP_ANSWER', 'ICE_CANDIDATE'];

/**
 * The payload as it goes on the wire: only the fields of RTCSessionDescriptionInit or
 * RTCIceCandidateInit, checked, so that what a caller's object carries besides (a bigint, a
 * getter, a cycle) can neither break the JSON nor travel.
 */
function wirePayload(action: OutgoingAction, p: unknown): SessionDescription | IceCandidate {
  if (action === 'ICE_CANDIDATE') {
    const o = readFields(p, `${action} payload`, [
      'candidate',
      'sdpMid',
      'sdpMLineIndex',
      'usernameFragment',
    ]);
    if (o === undefined) throw invalid(`${action} payload must be an object`);
    if (typeof o.candidate !== 'string')
      throw invalid('ICE_CANDIDATE payload.candidate must be a string');
    const out: IceCandidate = { candidate: o.candidate };
    for (const key of ['sdpMid', 'usernameFragment'] as const) {
      const v = o[key];
      if (v === undefined) continue;
      if (v !== null && typeof v !== 'string')
        throw invalid(
          `ICE_CANDIDATE payload.${key} must be a string or null, got ${describeValue(v)}`,
        );
      out[key] = v;
    }
    const index = o.sdpMLineIndex;
    if (index !== undefined) {
      if (
        index !== null &&
        !(Number.isInteger(index) && (index as number) >= 0 && (index as number) <= 65535)
      )
        throw invalid(
          `ICE_CANDIDATE payload.sdpMLineIndex must be an integer 0..65535 or null, got ${describeValue(index)}`,
        );
      out.sdpMLineIndex = index as number | null;
    }
    return out;
  }
  const o = readFields(p, `${action} payload`, ['type', 'sdp']);
  if (o === undefined) throw invalid(`${action} payload must be an object`);
  const want = action === 'SDP_OFFER' ? 'offer' : 'answer';
  if (o.type !== want)
    throw invalid(`${action} payload.type must be "${want}", got ${describeValue(o.type)}`);
  if (typeof o.sdp !== 'string' || o.sdp.length === 0)
    throw invalid(`${action} payload.sdp must be a non-empty string`);
  return { type: want, sdp: o.sdp };
}

/**
 * Validates and serialises one message for the socket. Throws `KvsError` with code
 * `ERR_INVALID_ARGUMENT` (an unknown action, bad ids, a master without a recipient, a viewer
 * naming one, a malformed payload) or `ERR_SIGNALING_PAYLOAD_TOO_LARGE` (over 10,000
 * characters).
 */
export function encodeOutgoing(msg: OutgoingMessage, role: SignalingRole): string {
  const m = readFields(msg, 'message', ['action', 'recipientClientId', 'correlationId', 'payload']);
  if (m === undefined) throw invalid('message must be an object');
  const action = m.action;
  if (!OUTGOING.some((a) => a === action))
    throw invalid(`action must be one of ${OUTGOING.join(', ')}, got ${describeValue(action)}`);
  const act = action as OutgoingAction;
  const payload = wirePayload(act, m.payload);
  const recipient = m.recipientClientId;
  if (role === 'MASTER') {
    if (recipient === undefined || recipient === '') {
      throw invalid(`a MASTER must name the recipient viewer (recipientClientId) for ${act}`);
    }
    checkClientId(recipient, 'recipientClientId');
  } else if (recipient !== undefined && recipient !== '') {
    throw invalid(
      `a VIEWER's ${act} always goes to the master: leave recipientClientId out ` +
        `(got ${describeValue(recipient)})`,
    );
  }
  if (m.correlationId !== undefined) checkCorrelationId(m.correlationId);
  const messagePayload = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64');
  if (messagePayload.length > MAX_PAYLOAD_CHARS) {
    throw new KvsError(
      'ERR_SIGNALING_PAYLOAD_TOO_LARGE',
      `messagePayload of ${act} is ${messagePayload.length} characters after base64; ` +
        `the limit is ${MAX_PAYLOAD_CHARS}`,
    );
  }
  const out: Record<string, string> = { action: act, messagePayload };
  if (role === 'MASTER') out['recipientClientId'] = recipient as string;
  if (m.correlationId !== undefined) out['correlationId'] = m.correlationId as string;
  return JSON.stringify(out);
}

export type IncomingMessage =
  | { type: 'SDP_OFFER' | 'SDP_ANSWER'; senderClientId: string; description: SessionDescription }
  | { type: 'ICE_CANDIDATE'; senderClientId: string; candidate: IceCandidate }
  | { type: 'STATUS_RESPONSE'; senderClientId: string; status: StatusResponse }
  | { type: 'GO_AWAY' | 'RECONNECT_ICE_SERVER'; senderClientId: string };

function bad(message: string): KvsError {
  return new KvsError('ERR_SIGNALING_BAD_MESSAGE', message);
}

function decodePayload(b64: unknown, what: string): Record<string, unknown> {
  if (typeof b64 !== 'string' || b64.length === 0) throw bad(`${what} without messagePayload`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
  } catch {
    throw bad(`${what} messagePayload is not base64 JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw bad(`${what} messagePayload is not a JSON object`);
  return parsed as Record<string, unknown>;
}

/**
 * Parses one text frame from the service. Keys are matched case-insensitively. Throws
 * `KvsError` `ERR_SIGNALING_BAD_MESSAGE` for anything malformed.
 */
export function decodeIncoming(text: string): IncomingMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad('the message is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw bad('the message is not a JSON object');
  const f = new Map<string, unknown>();
  for (const [k, v] of Object.entries(parsed)) f.set(k.toLowerCase(), v);
  const type = f.get('messagetype');
  const sender = f.get('senderclientid');
  const senderClientId = typeof sender === 'string' ? sender : '';
  switch (type) {
    case 'SDP_OFFER':
    case 'SDP_ANSWER': {
      const p = decodePayload(f.get('messagepayload'), type);
      const want = type === 'SDP_OFFER' ? 'offer' : 'answer';
      if (typeof p['sdp'] !== 'string') throw bad(`${type} payload has no sdp`);
      // Some senders leave `type` out; the message type says what it is.
      if (p['type'] !== undefined && p['type'] !== want)
        throw bad(`${type} payload has type ${JSON.stringify(p['type'])}`);
      return { type, senderClientId, description: { type: want, sdp: p['sdp'] } };
    }
    case 'ICE_CANDIDATE': {
      const p = decodePayload(f.get('messagepayload'), type);
      if (typeof p['candidate'] !== 'string') throw bad('ICE_CANDIDATE payload has no candidate');
      const candidate: IceCandidate = { candidate: p['candidate'] };
      if (typeof p['sdpMid'] === 'string' || p['sdpMid'] === null) candidate.sdpMid = p['sdpMid'];
      if (typeof p['sdpMLineIndex'] === 'number' || p['sdpMLineIndex'] === null)
        candidate.sdpMLineIndex = p['sdpMLineIndex'];
      if (typeof p['usernameFragment'] === 'string' || p['usernameFragment'] === null)
        candidate.usernameFragment = p['usernameFragment'];
      return { type, senderClientId, candidate };
    }
    case 'STATUS_RESPONSE': {
      const s = f.get('statusresponse');
      if (typeof s !== 'object' || s === null) throw bad('STATUS_RESPONSE without statusResponse');
      const o = s as Record<string, unknown>;
      const str = (k: string): string => {
        const v = o[k];
        if (typeof v === 'string') return v;
        if (typeof v === 'number' || typeof v === 'boolean') return String(v);
        return v === undefined || v === null ? '' : JSON.stringify(v);
      };
      return {
        type,
        senderClientId,
        status: {
          correlationId: str('correlationId'),
          errorType: str('errorType'),
          statusCode: str('statusCode'),
          description: str('description'),
        },
      };
    }
    case 'GO_AWAY':
    case 'RECONNECT_ICE_SERVER':
      return { type, senderClientId };
    default:
      throw bad(`unknown messageType ${JSON.stringify(type)}`);
  }
}
