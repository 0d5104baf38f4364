declare module 'node-gyp-build' {
  /** Loads the addon from `<dir>/prebuilds/<platform>-<arch>` or `<dir>/build/Release`. */
  function load(dir: string): unknown;
  export = load;
}
