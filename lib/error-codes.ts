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
  ERR_NATIVE_LOAD: ts('the native addon could not be loaded (run `npm run setup` to build it)'),
  ERR_NATIVE_UNKNOWN: ts(
    'a native failure without a registered code; the raw code is in the message',
  ),
  ERR_SESSION_CLOSED: ts('the Master or Viewer is closed'),
  ERR_SESSION_FAILED: ts("a Master's or Viewer's peer connection could not be set up or failed"),
  ERR_SESSION_TIMEOUT: ts('a Viewer got no answer, or did not connect, in time'),
  ERR_MEDIA_SOURCE: ts('a frame directory is missing, empty, too large or has no key frame'),
  ERR_NAT_DISCOVERY: ts('NAT behaviour discovery failed: no answer, or the server lacks RFC 5780'),
  ERR_CLI_SETUP: ts('the command cannot run here: no credentials, no region, or coturn missing'),
  ERR_LOCAL_START: ts('the local KVS service could not start (port, data directory, TLS material)'),
  ERR_LOCAL_STORE: ts(
    "the local service's channel file cannot be read (damaged, or an unknown format)",
  ),
  ERR_IOT_FILE_UNREADABLE: ts(
    'the IoT device certificate, private key or CA file is missing or unreadable; it names the path',
  ),
  ERR_IOT_CERT_REFUSED: ts(
    'the AWS IoT credentials endpoint refused the device certificate (403); it names the certificate',
  ),
  ERR_IOT_ROLE_ALIAS_NOT_FOUND: ts(
    'the AWS IoT credentials endpoint does not know the role alias (404)',
  ),
  ERR_IOT_THROTTLED: ts('the AWS IoT credentials endpoint still throttled (429) after the retries'),
  ERR_IOT_REQUEST: ts(
    'the AWS IoT credentials request failed: network, TLS, another status, or a bad response',
  ),
  ERR_SIGNALING_CLOSED: ts('the signaling client is closed'),
  ERR_SIGNALING_PAYLOAD_TOO_LARGE: ts(
    'an outgoing message payload is over 10,000 base64 characters',
  ),
  ERR_SIGNALING_QUEUE_FULL: ts('the outgoing signaling queue is full'),
  ERR_SIGNALING_BAD_MESSAGE: ts('a malformed incoming signaling message (emitted as `error`)'),
  ERR_SIGNALING_AUTH: ts(
    'credentials refused (401/403, not the clock), and refused again once fetched anew',
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
  ERR_CRYPTO_RANDOM: native(
    "no cryptographic random bytes (OpenSSL's generator failed): secrets cannot be made",
  ),
  ERR_SRTP_NOT_READY: native(
    'RTP or RTCP to send before DTLS gave SRTP its keys (discarded, counted)',
  ),
  ERR_RTP_TRUNCATED: native('an RTP packet shorter than its header, CSRC list or extension block'),
  ERR_RTP_VERSION: native('an RTP packet whose version is not 2'),
  ERR_RTP_PADDING: native('an RTP pad count of zero or larger than what follows the header'),
  ERR_RTP_EXTENSION: native('an RFC 8285 header extension element runs past its block'),
  ERR_RTP_TOO_MANY_EXTENSIONS: native('more RFC 8285 elements in one packet than are kept'),
  ERR_RTP_EXTENSION_VALUE: native(
    'a typed header extension (mid, abs-send-time, transport-cc) of the wrong size',
  ),
  ERR_RTP_INVALID_ARGUMENT: native('an RTP header to write with a field out of range'),
  ERR_RTP_BUFFER_TOO_SMALL: native('the buffer cannot hold the RTP header or packet to write'),
  ERR_RTCP_TRUNCATED: native('an RTCP packet shorter than its header or body'),
  ERR_RTCP_VERSION: native('an RTCP packet whose version is not 2'),
  ERR_RTCP_LENGTH: native("an RTCP length field points past the compound packet's end"),
  ERR_RTCP_PADDING: native('an RTCP pad count of zero or larger than the body'),
  ERR_RTCP_WRONG_TYPE: native('an RTCP parser handed a packet of another type or FMT'),
  ERR_RTCP_MALFORMED: native(
    'an RTCP packet whose contents break its format (an SDES chunk without end, a FIR without entries)',
  ),
  ERR_RTCP_TWCC: native('transport-wide congestion control feedback that makes no sense'),
  ERR_RTCP_REMB: native('application layer feedback that is not a well-formed REMB'),
  ERR_RTCP_INVALID_ARGUMENT: native('an RTCP packet to write with a field out of range'),
  ERR_RTCP_COMPOUND: native(
    'a compound RTCP packet that breaks RFC 3550 \u00a76.1 (SR/RR first, a CNAME)',
  ),
  ERR_NAL_NO_START_CODE: native(
    'an H.264/H.265 frame with no Annex-B start code (and not length-prefixed)',
  ),
  ERR_NAL_TRUNCATED: native(
    'a length-prefixed NAL unit runs past the frame; the message names the offset',
  ),
  ERR_NAL_LENGTH_SIZE: native('a NAL unit length size other than 1, 2 or 4'),
  ERR_H264_BAD_NAL: native('an H.264 NAL unit of a type RTP reserves for its own packets'),
  ERR_H264_TRUNCATED: native('an H.264 RTP payload shorter than its headers'),
  ERR_H264_FU_SEQUENCE: native('H.264 FU-A fragments out of order (a middle without a start)'),
  ERR_H264_UNSUPPORTED_PACKET: native(
    'an H.264 RTP packet type we do not take (STAP-B, MTAP, FU-B)',
  ),
  ERR_H264_PROFILE_LEVEL_ID: native('a profile-level-id that is not 6 hex digits'),
  ERR_H264_UNKNOWN_PROFILE: native('a profile-level-id naming no H.264 profile'),
  ERR_H265_BAD_NAL: native('an H.265 NAL unit of a reserved type, or with TID 0'),
  ERR_H265_TRUNCATED: native('an H.265 RTP payload shorter than its headers'),
  ERR_H265_FU_SEQUENCE: native('H.265 FU fragments out of order'),
  ERR_H265_UNSUPPORTED_PACKET: native(
    'an H.265 RTP packet type we do not take (PACI, unspecified)',
  ),
  ERR_VP8_TRUNCATED: native('a VP8 RTP payload that ends inside its descriptor'),
  ERR_VP8_FRAME_START: native('a VP8 frame whose first payload does not start partition 0'),
  ERR_VP8_PICTURE_ID: native('VP8 payloads of one frame with different PictureIDs'),
  ERR_AUDIO_MULTIPLE_PAYLOADS: native('an audio frame rebuilt from more than one payload'),
  ERR_MEDIA_EMPTY_FRAME: native('a frame with no bytes to send, or payloads with none to rebuild'),
  ERR_MEDIA_FRAME_TOO_LARGE: native(
    'an audio frame larger than one packet can carry; the message names both sizes',
  ),
  ERR_MEDIA_MAX_PAYLOAD: native("a payload size too small for the codec's own headers"),
  ERR_DCEP_TRUNCATED: native('a DCEP message shorter than its fields'),
  ERR_DCEP_TYPE: native('a DCEP message of an unknown type'),
  ERR_DCEP_CHANNEL_TYPE: native('a DATA_CHANNEL_OPEN with an unknown channel type'),
  ERR_DCEP_TOO_LONG: native('a data channel label or protocol over 65535 bytes'),
  ERR_DCEP_TRAILING: native('bytes after the protocol of a DATA_CHANNEL_OPEN'),
  ERR_DCEP_UTF8: native('a data channel label or protocol that is not UTF-8'),
  ERR_SCTP_CONFIG: native('an SCTP association setting out of range'),
  ERR_SCTP_STATE: native('an SCTP call in the wrong association state'),
  ERR_SCTP_CONNECT: native('usrsctp could not start the association'),
  ERR_SCTP_CLOSED: native('a send on an SCTP association that is closed or failed'),
  ERR_SCTP_EMPTY_MESSAGE: native(
    'an empty SCTP message (data channels send one zero byte instead)',
  ),
  ERR_SCTP_STREAM_ID: native('an SCTP stream id beyond the negotiated stream count'),
  ERR_SCTP_RELIABILITY: native('both maxRetransmits and maxPacketLifeTime set for one message'),
  ERR_SCTP_SEND: native('usrsctp refused a message'),
  ERR_SCTP_MESSAGE_TOO_LARGE: native('a received message over the receive limit (dropped)'),
  ERR_SCTP_COMM_LOST: native('the SCTP association lost the peer'),
  ERR_SCTP_PEER_ABORT: native('the peer aborted the SCTP association'),
  ERR_SCTP_PACKET_TRUNCATED: native('an inbound SCTP packet shorter than its common header'),
  ERR_SCTP_CHUNK_LENGTH: native('an inbound SCTP chunk whose length breaks the packet'),
  ERR_SCTP_PARAM_LENGTH: native('an inbound SCTP parameter whose length breaks its chunk'),
  ERR_DATACHANNEL_CLOSED: native('the SCTP association carrying the data channels is closed'),
  ERR_DATACHANNEL_ID: native('a data channel id beyond the negotiated stream count'),
  ERR_DATACHANNEL_ID_IN_USE: native('a data channel id already in use'),
  ERR_DATACHANNEL_ID_REQUIRED: native('a negotiated data channel without an id'),
  ERR_DATACHANNEL_NO_ID: native('no free SCTP stream id for a new data channel'),
  ERR_DATACHANNEL_MESSAGE_TOO_LARGE: both(
    "a message over the peer's max-message-size; the message names both sizes",
  ),
  ERR_DATACHANNEL_QUEUE_FULL: both(
    'a send that would pass the send-queue bound; wait for bufferedamountlow',
  ),
  ERR_DATACHANNEL_RELIABILITY: native('maxRetransmits and maxPacketLifeTime both set'),
  ERR_DATACHANNEL_STATE: native('a send on a data channel that is not open'),
  ERR_DATACHANNEL_UNKNOWN: native('no such data channel'),
  ERR_DATACHANNEL_OPEN_REFUSED: native(
    "the peer's DATA_CHANNEL_OPEN was refused (malformed, or an id in use)",
  ),
  ERR_DATACHANNEL_PPID: native('a message with an unknown PPID (dropped)'),
  ERR_DATACHANNEL_RESET: native("the peer refused to reset a closing channel's stream"),
  ERR_MDNS_NAME: native('an mDNS name that breaks RFC 1035 (a label too long, a loop of pointers)'),
  ERR_MDNS_TRUNCATED: native('an mDNS message shorter than what its header or records announce'),
  ERR_MEDIA_CONFIG: native(
    'a media stream configuration that cannot work (payload type, extension ids, MTU, rolling buffer)',
  ),
  ERR_MEDIA_MALFORMED: native('a frame whose payloads the depacketizer refused (counted, dropped)'),
  ERR_OPUS_INVALID: native(
    'an Opus packet whose TOC byte or frame count is invalid (RFC 6716 \u00a73)',
  ),
  ERR_OPUS_TRUNCATED: native('an Opus packet shorter than its TOC byte says'),
  ERR_SPS_INVALID: native('an H.264/H.265 sequence parameter set with an invalid field'),
  ERR_SPS_TRUNCATED: native('a sequence parameter set that ends before the picture size'),
  ERR_VP8_INVALID: native('a VP8 key frame without its start code'),
  ERR_VP8_NOT_KEY_FRAME: native('a VP8 inter frame asked for the picture size it does not carry'),
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
