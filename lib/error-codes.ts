/**
 * Every error code kvs-webrtc can put in `KvsError.code`, in one place, with one spelling:
 * `ERR_<AREA>_<WHAT>`. `from` says who raises it: the native core (`binding/`, the C++
 * `kvs::Status` codes that cross the N-API boundary), the TypeScript facade (`lib/`), or both.
 * Tests keep this table in step with the string literals of both sides
 * (`test/errors/registry.test.ts`) and with the README (`scripts/error-table.mjs`).
 *
 * This file imports nothing: scripts load it on its own.
 */

/** Who raises a code. */
export type ErrorSource = 'native' | 'ts' | 'both';

export interface ErrorCodeInfo {
  readonly from: ErrorSource;
  /** One line: what went wrong. */
  readonly meaning: string;
}

const native = (meaning: string): ErrorCodeInfo => ({ from: 'native', meaning });
const ts = (meaning: string): ErrorCodeInfo => ({ from: 'ts', meaning });
const both = (meaning: string): ErrorCodeInfo => ({ from: 'both', meaning });

const CODES = {
  // ---- either side ----
  ERR_INVALID_ARGUMENT: both(
    'an argument or option is invalid; the message names the field and the limit',
  ),
  ERR_INVALID_STATE: both("the call is not valid in the object's current state"),
  ERR_SELF_TEST: both('the DTLS-SRTP self-test failed; the message names the leg'),

  // ---- the TypeScript facade ----
  ERR_ABORTED: ts('an AbortSignal fired'),
  ERR_NOT_IMPLEMENTED: ts('the feature is not implemented in this version'),
  ERR_NATIVE_LOAD: ts('the native addon could not be loaded (run `npm run setup` to build it)'),
  ERR_NATIVE_UNKNOWN: ts(
    'a native failure without a registered code; the raw code is in the message',
  ),
  ERR_DEMO_FAILED: ts("the demo's peer connections failed or did not connect in time"),
  ERR_LOCAL_START: ts('the local KVS service could not start (port, data directory, TLS material)'),
  ERR_LOCAL_STORE: ts(
    "the local service's channel file cannot be read (damaged, or an unknown format)",
  ),
  ERR_SIGNALING_CLOSED: ts('the signaling client is closed'),
  ERR_SIGNALING_PAYLOAD_TOO_LARGE: ts(
    'an outgoing message payload is over 10,000 base64 characters',
  ),
  ERR_SIGNALING_QUEUE_FULL: ts('the outgoing signaling queue is full'),
  ERR_SIGNALING_BAD_MESSAGE: ts('a malformed incoming signaling message (emitted as `error`)'),
  ERR_SIGNALING_AUTH: ts(
    'a call or handshake was refused: credentials, signature or clock (401/403)',
  ),
  ERR_SIGNALING_NOT_FOUND: ts('the channel or endpoint does not exist (404)'),
  ERR_SIGNALING_THROTTLED: ts('a call or handshake was throttled (ClientLimitExceeded, 429)'),
  ERR_SIGNALING_TIMEOUT: ts('a call or handshake got no answer in time'),
  ERR_SIGNALING_NETWORK: ts('a call or handshake failed on the network (refused, reset, DNS, TLS)'),
  ERR_SIGNALING_SERVER: ts('the service failed (5xx)'),
  ERR_SIGNALING_INVALID: ts(
    'a call was refused as invalid (another 4xx), or no credentials were found',
  ),
  ERR_SIGNALING_RETRIES_EXHAUSTED: ts('a recovery gave up after `retry.maxAttempts` failures'),
  ERR_SIGNALING_ICE_REFRESH: ts('a background ICE configuration refresh gave up'),
  ERR_SIGNALING_RECONNECT: ts('a background reconnect failed'),

  // ---- the native core ----
  ERR_LOOP: native("the network thread's event loop could not be set up"),
  ERR_SOCKET: native('a socket operation failed; the message has the system error'),
  ERR_SOCKET_BUFFER_FULL: native("a stream socket's send queue is full"),
  ERR_SOCKET_TIMEOUT: native('a TCP connect timed out'),
  ERR_TLS: native('the TLS stream failed'),
  ERR_TLS_CONFIG: native('the TLS context could not be set up'),
  ERR_TLS_HANDSHAKE: native('the TLS handshake failed'),
  ERR_TLS_VERIFY: native("the TURN server's certificate is not trusted or does not match its name"),
  ERR_STUN_TRUNCATED: native('under 20 bytes: no STUN header'),
  ERR_STUN_NOT_STUN: native('not a STUN message (the first two bits are not zero)'),
  ERR_STUN_BAD_COOKIE: native('no STUN magic cookie'),
  ERR_STUN_BAD_LENGTH: native('the STUN length disagrees with the datagram'),
  ERR_STUN_ATTRIBUTE_TRUNCATED: native('a STUN attribute runs past the end of the message'),
  ERR_STUN_ATTRIBUTE_LENGTH: native('a known STUN attribute has the wrong length'),
  ERR_STUN_ATTRIBUTE_VALUE: native('a STUN attribute field is out of range'),
  ERR_STUN_ADDRESS_FAMILY: native('a STUN address attribute is neither IPv4 nor IPv6'),
  ERR_STUN_FINGERPRINT_NOT_LAST: native('a STUN attribute follows FINGERPRINT'),
  ERR_STUN_TOO_LARGE: native('a STUN attribute or message exceeds the 16-bit lengths'),
  ERR_STUN_EMPTY_KEY: native('STUN message integrity asked for with an empty key'),
  ERR_STUN_CRYPTO: native('an HMAC failed in OpenSSL'),
  ERR_STUN_RANDOM: native("OpenSSL's random generator failed"),
  ERR_STUN_NOT_FOUND: native('the STUN attribute looked for is absent'),
  ERR_STUN_NO_INTEGRITY: native('no MESSAGE-INTEGRITY attribute'),
  ERR_STUN_INTEGRITY_MISMATCH: native('MESSAGE-INTEGRITY does not match the key'),
  ERR_STUN_NO_FINGERPRINT: native('no FINGERPRINT attribute'),
  ERR_STUN_FINGERPRINT_MISMATCH: native('the STUN FINGERPRINT does not match'),
  ERR_STUN_BAD_REQUEST: native('a connectivity check without USERNAME or MESSAGE-INTEGRITY'),
  ERR_STUN_UNAUTHORIZED: native('a connectivity check with a wrong USERNAME or HMAC'),
  ERR_STUN_WRONG_MESSAGE: native('a STUN message of the wrong type for this step'),
  ERR_STUN_MISSING_ATTRIBUTE: native('a required STUN attribute is missing'),
  ERR_STUN_FRAME_TOO_LARGE: native('a framed STUN or ChannelData message over the stream limit'),
  ERR_STUN_STREAM_DESYNC: native('a TURN stream (TCP, TLS) lost its framing'),
  ERR_TURN_URL: native('an invalid turn: or turns: URL'),
  ERR_TURN_AUTH: native('the TURN server refused the credentials'),
  ERR_TURN_ALLOCATION: native('a TURN Allocate or Refresh was refused'),
  ERR_TURN_TIMEOUT: native('no answer to a TURN Allocate or Refresh'),
  ERR_TURN_PERMISSION: native('a TURN CreatePermission was refused or unanswered'),
  ERR_TURN_CHANNEL: native('a TURN ChannelBind was refused or unanswered'),
  ERR_TURN_QUEUE_FULL: native("the TURN client's send queue is full (the data is dropped)"),
  ERR_TURN_CONNECTION_CLOSED: native('the stream to the TURN server closed'),
  ERR_TURN_CHANNEL_NUMBER: native('a TURN channel number outside 0x4000..0x4FFF'),
  ERR_TURN_CHANNEL_DATA_TRUNCATED: native(
    'a ChannelData message shorter than its header or length',
  ),
  ERR_TURN_CHANNEL_DATA_LENGTH: native(
    'a ChannelData message with bytes after its padding, or too long',
  ),
  ERR_ICE_UNSUPPORTED_CANDIDATE: native(
    'a well-formed remote candidate that cannot be used (mDNS, TCP)',
  ),
  ERR_ICE_NOT_CONNECTED: native('no such local socket or relay to send on'),
  ERR_DTLS_INIT: native('the DTLS context or session could not be set up'),
  ERR_DTLS_CERTIFICATE: native('the DTLS certificate could not be made, loaded or hashed'),
  ERR_DTLS_DATAGRAM: native('a DTLS datagram of an impossible size'),
  ERR_DTLS_HANDSHAKE: native('the DTLS handshake failed'),
  ERR_DTLS_TIMEOUT: native('the DTLS handshake ran out of retransmissions'),
  ERR_DTLS_FINGERPRINT_MISMATCH: native(
    "the peer's DTLS certificate does not match the SDP fingerprint",
  ),
  ERR_DTLS_NO_SRTP_PROFILE: native('DTLS finished without negotiating an SRTP profile (use_srtp)'),
  ERR_DTLS_EXPORT: native('the SRTP keying material could not be exported from DTLS'),
  ERR_DTLS_READ: native('reading DTLS application data failed'),
  ERR_DTLS_WRITE: native('writing DTLS application data failed'),
  ERR_SRTP: native('an SRTP operation failed'),
  ERR_SRTP_INIT: native('libsrtp2 could not be initialised or a session made'),
  ERR_SRTP_KEYS: native('the DTLS keying material has the wrong size for the SRTP profile'),
  ERR_SRTP_AUTH_FAIL: native('an SRTP or SRTCP packet failed authentication'),
  ERR_SRTP_REPLAY: native('an SRTP or SRTCP packet is a replay'),
  ERR_SRTP_MALFORMED: native('an RTP or RTCP packet too short or malformed to protect'),
  ERR_SCTP_INIT: native('usrsctp could not be initialised'),
  ERR_SCTP_SOCKET: native('an SCTP socket could not be made'),
  ERR_SDP_MALFORMED: native('a malformed SDP; the message names the line'),
  ERR_SDP_TOO_LARGE: native("an SDP over the parser's size limit"),
  ERR_SDP_CANDIDATE: native('a malformed candidate; the message names the field'),
  ERR_SDP_NEGOTIATION: native(
    'the offer and answer cannot be negotiated (no common codec, every m-line rejected)',
  ),
} as const satisfies Record<`ERR_${string}`, ErrorCodeInfo>;

/** A stable error code: one of the registry's keys. */
export type KvsErrorCode = keyof typeof CODES;

for (const info of Object.values(CODES)) Object.freeze(info);

/** The registry: each code, who raises it and what it means. Frozen. */
export const ERROR_CODES: Readonly<Record<KvsErrorCode, ErrorCodeInfo>> = Object.freeze(CODES);

export function isKvsErrorCode(value: unknown): value is KvsErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}
