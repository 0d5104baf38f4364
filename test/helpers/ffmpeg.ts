// Debian's ffmpeg as the independent judge of what arrived: a stream that ffmpeg decodes
// without an error, picture for picture, at the right size, is whole.
import { spawnSync } from 'node:child_process';

export interface Probe {
  codec: string;
  profile: string;
  width: number;
  height: number;
  /** Pictures ffprobe decoded (-count_frames). */
  frames: number;
}

function run(cmd: string, args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) {
    throw new Error(`${cmd}: ${r.error.message} (install Debian's ffmpeg: apt-get install ffmpeg)`);
  }
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** Decodes the first video stream of `file` (format `format`, e.g. 'h264') and describes it. */
export function probe(file: string, format: string): Probe {
  const { stdout } = run('ffprobe', [
    ...['-v', 'error', '-f', format, '-count_frames', '-select_streams', 'v:0'],
    ...['-show_entries', 'stream=codec_name,profile,width,height,nb_read_frames'],
    ...['-of', 'json', file],
  ]);
  const s = (JSON.parse(stdout) as { streams: Record<string, string | number>[] }).streams[0];
  if (!s) throw new Error(`ffprobe found no video stream in ${file}`);
  return {
    codec: String(s['codec_name']),
    profile: String(s['profile']),
    width: Number(s['width']),
    height: Number(s['height']),
    frames: Number(s['nb_read_frames']),
  };
}

/** What ffmpeg says, at level error, while decoding the whole of `file`: '' when nothing. */
export function decodeErrors(file: string, format: string): string {
  return run('ffmpeg', ['-v', 'error', '-f', format, '-i', file, '-f', 'null', '-']).stderr.trim();
}
