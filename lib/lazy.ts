/**
 * Heavy dependencies (the AWS SDK clients and credential providers, `ws`,
 * `@smithy/signature-v4`) load on first use, not when `require('kvs-webrtc')` runs: a device
 * app that only makes peer connections never pays for them. Their types stay static
 * (`import type`); this is the one place that calls `require` at run time.
 */
export function lazyModule<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the point of this helper: load on first use (see the comment above)
    loaded ??= require(id) as T;
    return loaded;
  };
}
