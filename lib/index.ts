// The device-side API. The local KVS service is a separate entry point, `kvs-webrtc/local`,
// so that `require('kvs-webrtc')` never loads it (nor ws's server, nor node-forge).
export { KvsError, type KvsErrorCode } from './errors.js';
export {
  ERROR_CODES,
  isKvsErrorCode,
  type ErrorCodeInfo,
  type ErrorSource,
} from './error-codes.js';
export { versions, type Versions } from './versions.js';
export { selfTest, SRTP_PROFILES, type SelfTestOptions, type SelfTestReport } from './self-test.js';
export type { SrtpProfileName } from './native.js';
export * from './peer/index.js';
export * from './signaling/index.js';
export {
  FileEndpointCache,
  MemoryEndpointCache,
  type EndpointCache,
  type EndpointCacheEntry,
  type EndpointCacheKey,
  fromIotCredentials,
  iotOptionsFromEnv,
  IOT_ENV,
  type IotCredentialProvider,
  type IotCredentialsOptions,
} from './channel/index.js';
export * from './session/index.js';
export {
  discoverNatBehavior,
  parseStunUrl,
  type NatBehavior,
  type NatBehaviorKind,
  type NatDiscoveryOptions,
} from './nat/discover.js';
