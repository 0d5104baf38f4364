// apt against a private configuration kept in the cache: fetching source packages or
// foreign .debs never changes the machine's own apt sources, lists or archives.
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
  const apt = {
    update() {
      if (updated) return;
      log(`updating the private Debian index (${suite}, ${kind}${arch ? ` ${arch}` : ''})`);
      run('apt-get', [...options, 'update']);
      updated = true;
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
      run('apt-get', [...options, 'source', '--only-source', spec], { cwd });
    },
    download(specs, cwd) {
      run('apt-get', [...options, 'download', ...specs], { cwd });
    },
  };
  return apt;
}
