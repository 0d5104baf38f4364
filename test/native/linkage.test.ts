import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { versions } from '../../lib/index.js';
import { ROOT } from '../helpers/root.js';

const addonPath = path.join(ROOT, 'build', 'Release', 'kvs_webrtc.node');
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });

interface LinkageProbe {
  addonOpensslPlatform: string;
  processExportsOpenssl: boolean;
  processOpensslPlatform: string | null;
  sameFunction: boolean;
}

describe('the addon is self-contained', () => {
  it('exists where node-gyp-build looks', () => {
    expect(fs.existsSync(addonPath)).toBe(true);
  });

  it('needs only libc-family shared libraries', () => {
    const libs = sh('ldd', [addonPath])
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0] ?? '')
      .filter(Boolean);
    expect(libs.length).toBeGreaterThan(0);
    const libcFamily =
      /^(linux-vdso\.so\.1|\/lib64\/ld-linux-x86-64\.so\.2|.*ld-linux.*|lib(c|m|dl|pthread|rt)\.so\.\d+)$/;
    expect(libs.filter((l) => !libcFamily.test(l))).toEqual([]);
  });

  it('exports only the N-API entry points', () => {
    const defined = sh('nm', ['-D', '--defined-only', addonPath])
      .split('\n')
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/).pop());
    expect(defined.sort()).toEqual([
      'napi_register_module_v1',
      'node_api_module_get_api_version_v1',
    ]);
  });

  it('runs its own OpenSSL, not the copy Node exports', () => {
    const addon = createRequire(__filename)(addonPath) as { _linkageProbe(): LinkageProbe };
    const probe = addon._linkageProbe();
    // Node exports OpenSSL's symbols; ours must not be bound to them.
    expect(probe.processExportsOpenssl).toBe(true);
    expect(probe.sameFunction).toBe(false);
    expect(probe.addonOpensslPlatform).toBe(`platform: ${versions().opensslPlatform}`);
  });

  it("reports the linked libraries' versions", () => {
    const v = versions();
    // The libcrypto.a we link is Debian's: the same build as the system's openssl command.
    const system = sh('openssl', ['version', '-v', '-p']);
    expect(system).toContain(v.openssl);
    expect(system).toContain(`platform: ${v.opensslPlatform}`);
    const manifest = JSON.parse(
      fs.readFileSync(path.join(ROOT, 'deps', 'manifest.json'), 'utf8'),
    ) as {
      packages: { libsrtp2: { version: string }; usrsctp: { version: string } };
    };
    expect(v.libsrtp2).toBe(`libsrtp2 ${manifest.packages.libsrtp2.version.replace(/-.*$/, '')}`);
    expect(v.usrsctp).toBe(manifest.packages.usrsctp.version);
    expect(v.napi).toBe(8);
  });
});
