// Fetches Debian source packages (with Debian's patches applied by dpkg-source) into the
// cache, through a private apt configuration: the machine's own apt setup is never changed.
import fs from 'node:fs';
import path from 'node:path';
import { run, log } from '../scripts/lib/run.mjs';

const DEFAULT_URI = 'http://deb.debian.org/debian';
const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** The machine's Debian mirror and keyring, so the private list trusts what apt trusts. */
function machineMirror() {
  const file = '/etc/apt/sources.list.d/debian.sources';
  if (!fs.existsSync(file)) return { uri: DEFAULT_URI, signedBy: DEFAULT_KEYRING };
  for (const stanza of fs.readFileSync(file, 'utf8').split(/\n\s*\n/)) {
    const field = (name) => stanza.match(new RegExp(`^${name}:\\s*(.+)$`, 'mi'))?.[1]?.trim();
    const uri = field('URIs')?.split(/\s+/)[0];
    if (!uri || /security/.test(uri) || !/debian\/?$/.test(uri)) continue;
    return { uri, signedBy: field('Signed-By') ?? DEFAULT_KEYRING };
  }
  return { uri: DEFAULT_URI, signedBy: DEFAULT_KEYRING };
}

function aptOptions(aptDir) {
  return [
    '-o',
    'Dir::Etc::SourceList=/dev/null',
    '-o',
    `Dir::Etc::SourceParts=${path.join(aptDir, 'parts')}`,
    '-o',
    `Dir::State::Lists=${path.join(aptDir, 'lists')}`,
    '-o',
    `Dir::Cache=${path.join(aptDir, 'cache')}`,
    '-o',
    'Debug::NoLocking=1',
    '-o',
    'APT::Sandbox::User=root',
    '-qq',
  ];
}

function prepareAptDir(aptDir, suite) {
  const { uri, signedBy } = machineMirror();
  for (const d of ['parts', 'lists/partial', 'cache/archives/partial']) {
    fs.mkdirSync(path.join(aptDir, d), { recursive: true });
  }
  const stanza = `Types: deb-src\nURIs: ${uri}\nSuites: ${suite}\nComponents: main\nSigned-By: ${signedBy}\n`;
  fs.writeFileSync(path.join(aptDir, 'parts', 'kvs-webrtc-src.sources'), stanza);
}

function hasVersion(aptDir, source, version) {
  try {
    const out = run('apt-cache', [...aptOptions(aptDir), 'showsrc', source]);
    return out.split('\n').some((l) => l.trim() === `Version: ${version}`);
  } catch {
    return false;
  }
}

/**
 * Returns the path of the unpacked, patched source tree of `source=version`, fetching it
 * once into `<cache>/src`.
 */
export function ensureDebianSource({ cache, suite, source, version, dir }) {
  const srcRoot = path.join(cache, 'src', `${source}_${version}`);
  const tree = path.join(srcRoot, dir);
  if (fs.existsSync(path.join(srcRoot, '.complete'))) return tree;

  const aptDir = path.join(cache, 'apt');
  prepareAptDir(aptDir, suite);
  if (!hasVersion(aptDir, source, version)) {
    log(`updating the private Debian source index (${suite} main)`);
    run('apt-get', [...aptOptions(aptDir), 'update']);
    if (!hasVersion(aptDir, source, version)) {
      throw new Error(
        `Debian source package ${source}=${version} is not in ${suite}; update deps/manifest.json`,
      );
    }
  }
  log(`fetching Debian source ${source} ${version}`);
  const tmp = `${srcRoot}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  // apt verifies the .dsc against the signed index; dpkg-source checks the tarballs against
  // the .dsc and applies debian/patches.
  run('apt-get', [...aptOptions(aptDir), 'source', '--only-source', `${source}=${version}`], {
    cwd: tmp,
  });
  if (!fs.existsSync(path.join(tmp, dir))) {
    throw new Error(`apt-get source ${source}=${version} did not produce ${dir}/`);
  }
  fs.writeFileSync(path.join(tmp, '.complete'), `${source} ${version}\n`);
  fs.rmSync(srcRoot, { recursive: true, force: true });
  fs.renameSync(tmp, srcRoot);
  return tree;
}
