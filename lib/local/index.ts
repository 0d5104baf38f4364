export {
  startLocalKvs,
  defaultDataDir,
  type LocalKvs,
  type LocalKvsOptions,
  type LocalKvsTurnOptions,
} from './service.js';
export { DEFAULT_LIMITS, type LocalKvsLimits } from './limits.js';
export type { LocalPrincipal } from './credentials.js';
export type { PolicyDocument, PolicyStatement } from './policy.js';
export { viewerPageUrl } from './viewer-page.js';
export {
  DEFAULT_ROLE_ALIAS,
  type IotDevice,
  type LocalIot,
  type LocalIotOptions,
  type LocalRoleAlias,
} from './iot.js';
