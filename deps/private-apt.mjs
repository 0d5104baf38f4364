// apt against a private configuration kept in the cache: fetching source packages or
// foreign .debs never changes the machine's own apt sources, lists or archives.
// KVS_WEBRTC_OFFLINE=1 (the tests) forbids fetching an index: what is cached must do.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { run, log } from '../scripts/lib/run.mjs';

const DEFAULT_URI = 'http://deb.debian.org/debian';
const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** The machine's Debian mirrors and keyring, so the private lists trust what apt trusts. */
function machineMirrors() {
  const mirrors = {
    main: DEFAULT_URI,
    security: `${DEFAULT_URI}-security`,
    signedBy: DEFAULT_KEYRING,
  };
  const file = '/etc/apt/sources.list.d/debian.sources';
  if (!fs.existsSync(file)) return mirrors;
  for (const stanza of fs.readFileSync(file, 'utf8').split(/\n\s*\n/)) {
    const field = (name) => stanza.match(new RegExp(`^${name}:\\s*(.+)$`, 'mi'))?.[1]?.trim();
    const uri = field('URIs')?.split(/\s+/)[0];
    if (!uri) continue;
    if (/debian-security\/?$/.test(uri)) mirrors.security = uri;
    else if (/debian\/?$/.test(uri)) mirrors.main = uri;
    else continue;
    mirrors.signedBy = field('Signed-By') ?? mirrors.signedBy;
  }
  return mirrors;
}

/**
 * A private apt rooted at `dir`. `kind` is 'deb-src' or 'deb'; `arch` (for 'deb') is a
 * Debian architecture name.
 */
export function privateApt({ dir, suite, kind, arch }) {
  const { main, security, signedBy } = machineMirrors();
  for (const d of ['parts', 'lists/partial', 'cache/archives/partial']) {
    fs.mkdirSync(path.join(dir, d), { recursive: true });
  }
  const stanza = (uri, suites) =>
    `Types: ${kind}\nURIs: ${uri}\nSuites: ${suites}\nComponents: main\nSigned-By: ${signedBy}\n`;
  fs.writeFileSync(
    path.join(dir, 'parts', 'kvs-webrtc.sources'),
    `${stanza(main, `${suite} ${suite}-updates`)}\n${stanza(security, `${suite}-security`)}`,
  );
  const options = [
    '-o',
    'Dir::Etc::SourceList=/dev/null',
    '-o',
    `Dir::Etc::SourceParts=${path.join(dir, 'parts')}`,
    '-o',
    `Dir::State::Lists=${path.join(dir, 'lists')}`,
    '-o',
    `Dir::Cache=${path.join(dir, 'cache')}`,
    // Installed packages must not influence which version is picked.
    '-o',
    'Dir::State::status=/dev/null',
    '-o',
    'Debug::NoLocking=1',
    '-o',
    'APT::Sandbox::User=root',
    ...(arch ? ['-o', `APT::Architecture=${arch}`, '-o', `APT::Architectures=${arch}`] : []),
    '-qq',
  ];
  let updated = false;
  const stamp = path.join(dir, 'lists', '.kvs-webrtc-updated');
  const apt = {
    /**
     * Refreshes the index. A mirror in mid-sync can fail one suite's index (seen here for
     * bookworm-security armhf: "File has unexpected size ... Mirror sync in progress?"):
     * apt then keeps the suites that did verify, which is still a signed, consistent view,
     * so that is a warning naming the suite, not an error. No verified index at all is one.
     */
    update() {
      if (updated) return;
      if (process.env.KVS_WEBRTC_OFFLINE === '1') {
        throw new Error(
          `KVS_WEBRTC_OFFLINE=1, but the private ${kind} index in ${dir} needs fetching`,
        );
      }
      log(`updating the private Debian index (${suite}, ${kind}${arch ? ` ${arch}` : ''})`);
      const res = spawnSync('apt-get', [...options, 'update'], { encoding: 'utf8' });
      if (res.error) throw new Error(`apt-get: ${res.error.message}`);
      const failed = `${res.stdout}${res.stderr}`
        .split('\n')
        .filter((l) => /^(E|W): /.test(l))
        .map((l) => l.replace(/\s*\[IP: [^\]]*\]/, ''));
      const haveMain = fs
        .readdirSync(path.join(dir, 'lists'))
        .some((f) => f.endsWith(`_dists_${suite}_InRelease`));
      if (res.status !== 0 && !haveMain) {
        throw new Error(`apt-get update failed for the private index:\n${failed.join('\n')}`);
      }
      for (const line of failed) log(`warning: ${line}`);
      fs.writeFileSync(stamp, `${new Date().toISOString()}\n${failed.join('\n')}\n`);
      updated = true;
    },
    assertOnline(what) {
      if (process.env.KVS_WEBRTC_OFFLINE === '1') {
        throw new Error(`KVS_WEBRTC_OFFLINE=1, but ${what} is not in the cache yet`);
      }
    },
    /** Refreshes the index when it is older than `maxAgeMs` (or was never fetched). */
    updateIfOlderThan(maxAgeMs) {
      if (process.env.KVS_WEBRTC_OFFLINE === '1' && fs.existsSync(stamp)) return;
      const age = fs.existsSync(stamp) ? Date.now() - fs.statSync(stamp).mtimeMs : Infinity;
      if (age > maxAgeMs) apt.update();
    },
    /** The version apt would pick: the highest one in the suites that verified. */
    candidate(pkg) {
      const out = run('apt-cache', [...options, 'policy', pkg]);
      const v = out.match(/^\s*Candidate:\s*(\S+)$/m)?.[1];
      return v && v !== '(none)' ? v : undefined;
    },
    /** Every version the index knows of a package (source or binary). */
    versions(pkg) {
      const cmd = kind === 'deb-src' ? ['showsrc', pkg] : ['show', '-a', pkg];
      try {
        return [...run('apt-cache', [...options, ...cmd]).matchAll(/^Version: (\S+)$/gm)].map(
          (m) => m[1],
        );
      } catch {
        return [];
      }
    },
    /** Looks a version up, refreshing the index once if it is not there. */
    require(pkg, accept) {
      let found = apt.versions(pkg).find(accept);
      if (!found) {
        apt.update();
        found = apt.versions(pkg).find(accept);
      }
      if (!found) throw new Error(`no acceptable version of ${pkg} in Debian ${suite}`);
      return found;
    },
    source(spec, cwd) {
      apt.assertOnline(spec);
      run('apt-get', [...options, 'source', '--only-source', spec], { cwd });
    },
    download(specs, cwd) {
      apt.assertOnline(specs.join(' '));
      run('apt-get', [...options, 'download', ...specs], { cwd });
    },
  };
  return apt;
}
