export {
  ChannelApi,
  ChannelCallError,
  type ChannelApiOptions,
  type DescribedChannel,
  type SharedClock,
} from './api.js';
export {
  FileEndpointCache,
  MemoryEndpointCache,
  ENDPOINT_CACHE_MAX_ENTRIES,
  ENDPOINT_CACHE_TTL_MS,
  type EndpointCache,
  type EndpointCacheEntry,
  type EndpointCacheKey,
  type EndpointCacheOptions,
} from './endpoint-cache.js';
export {
  fromIotCredentials,
  iotOptionsFromEnv,
  IOT_ENV,
  type IotCredentialProvider,
  type IotCredentialsOptions,
} from './iot-credentials.js';
