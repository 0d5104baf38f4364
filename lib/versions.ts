import { native, type NativeVersions } from './native.js';

export type Versions = NativeVersions;

/** Versions of the libraries linked statically into the addon (not Node's own OpenSSL). */
export function versions(): Versions {
  return native().versions();
}
