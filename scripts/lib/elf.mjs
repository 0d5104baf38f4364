// What a built addon links and exports, read with readelf (binutils' readelf reads every
// ELF machine, so one host tool checks the ARM binaries too).
import fs from 'node:fs';
import { run } from './run.mjs';

/** The libraries every Linux program may need: the C library and its loader. */
export const LIBC_FAMILY =
  /^(libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|ld-linux[-\w.]*\.so\.\d+)$/;

/**
 * { machine, elfClass, needed, exported, stripped, glibcFloor, bytes } of an ELF file.
 * glibcFloor is the highest GLIBC_x.y version any of its symbols needs ("2.35").
 */
export function inspectElf(file) {
  const header = run('readelf', ['-hW', file]);
  const dynamic = run('readelf', ['-dW', file]);
  const sections = run('readelf', ['-SW', file]);
  const versions = run('readelf', ['-VW', file]);
  const dynsyms = run('readelf', ['--dyn-syms', '-W', file]);
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map(
    (m) => m[1],
  );
  // Defined, global or weak, default-visible dynamic symbols: what the addon exports.
  const exported = dynsyms
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 8 && /^\d+:$/.test(f[0]))
    .filter(([, , , type, bind, vis, ndx]) => {
      return (
        ['FUNC', 'OBJECT', 'IFUNC'].includes(type) &&
        ['GLOBAL', 'WEAK'].includes(bind) &&
        vis === 'DEFAULT' &&
        ndx !== 'UND'
      );
    })
    .map((f) => f[7].replace(/@.*$/, ''))
    .sort();
  const glibc = [...versions.matchAll(/Name: GLIBC_(\d+)\.(\d+)(?:\.\d+)?\b/g)].map((m) => [
    Number(m[1]),
    Number(m[2]),
  ]);
  // DT_RELR (-z pack-relative-relocs) needs glibc 2.36 without naming a GLIBC_2.36 symbol.
  if (/Name: GLIBC_ABI_DT_RELR\b/.test(versions)) glibc.push([2, 36]);
  glibc.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const floor = glibc.at(-1);
  return {
    machine: header.match(/^\s*Machine:\s+(.+)$/m)?.[1]?.trim() ?? '',
    elfClass: header.match(/^\s*Class:\s+(\S+)$/m)?.[1] ?? '',
    needed,
    exported,
    stripped: !/\s\.symtab\s/.test(sections) && !/\s\.debug_info\s/.test(sections),
    glibcFloor: floor ? `${floor[0]}.${floor[1]}` : '',
    bytes: fs.statSync(file).size,
  };
}
