export { KvsError, type KvsErrorCode } from './errors.js';
export { versions, type Versions } from './versions.js';
export { selfTest, SRTP_PROFILES, type SelfTestOptions, type SelfTestReport } from './self-test.js';
export type { SrtpProfileName } from './native.js';
export * from './peer/index.js';
export * from './local/index.js';
export * from './signaling/index.js';
export {
  FileEndpointCache,
  MemoryEndpointCache,
  type EndpointCache,
  type EndpointCacheEntry,
  type EndpointCacheKey,
} from './channel/index.js';
