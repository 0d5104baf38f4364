/**
 * Frames stored one per file, as the C SDK's samples keep them (`frame-%04d.h264`,
 * `sample-%03d.opus`): reading a directory of them in numeric order, telling key frames apart
 * from the bitstream, and writing received frames back in the same form.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describeValue } from '../args.js';
import { invalidArgument, KvsError } from '../errors.js';
import type { Codec, MediaKind } from '../peer/transceiver.js';

/** The package's own sample media (made by scripts/make-sample-media.mjs). */
export const SAMPLES_DIR = path.join(__dirname, '..', '..', 'samples');

/** One stored frame: its bytes and whether a decoder can start on it. */
export interface StoredFrame {
  data: Buffer;
  key: boolean;
}

/** Start offsets of the NAL units of an Annex-B stream (after their start codes). */
function nalStarts(annexB: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 2 < annexB.length; i++) {
    if (annexB[i] === 0 && annexB[i + 1] === 0 && annexB[i + 2] === 1) {
      out.push(i + 3);
      i += 2;
    }
  }
  return out;
}

/**
 * Whether a decoder can start on this frame: an H.264 IDR (NAL type 5), an H.265 IRAP (types
 * 16-23), a VP8 key frame (bit 0 of the first byte clear). Audio frames always are.
 */
export function isKeyFrame(codec: Codec, frame: Uint8Array): boolean {
  if (!(frame instanceof Uint8Array))
    throw invalidArgument(
      `isKeyFrame: frame must be a Buffer or Uint8Array, got ${describeValue(frame)}`,
    );
  if (!(Object.values(EXTENSIONS) as unknown[]).includes(codec))
    throw invalidArgument(
      `isKeyFrame: codec must be one of ${[...new Set(Object.values(EXTENSIONS))].join(', ')}, got ${describeValue(codec)}`,
    );
  switch (codec) {
    case 'H264':
      return nalStarts(frame).some((at) => ((frame[at] ?? 0) & 0x1f) === 5);
    case 'H265':
      return nalStarts(frame).some((at) => {
        const type = ((frame[at] ?? 0) >> 1) & 0x3f;
        return type >= 16 && type <= 23;
      });
    case 'VP8':
      return frame.length > 0 && ((frame[0] ?? 1) & 1) === 0;
    default:
      return true;
  }
}

/** The codecs a file extension stands for, for directories given without a codec. */
const EXTENSIONS: Record<string, Codec> = {
  '.h264': 'H264',
  '.264': 'H264',
  '.h265': 'H265',
  '.hevc': 'H265',
  '.vp8': 'VP8',
  '.ivf-frame': 'VP8',
  '.opus': 'opus',
  '.pcmu': 'PCMU',
  '.ulaw': 'PCMU',
  '.pcma': 'PCMA',
  '.alaw': 'PCMA',
};

export function codecOfExtension(file: string): Codec | undefined {
  return EXTENSIONS[path.extname(file).toLowerCase()];
}

export function kindOfCodec(codec: Codec): MediaKind {
  return codec === 'opus' || codec === 'PCMU' || codec === 'PCMA' ? 'audio' : 'video';
}

/** The number in a file name (`frame-0012.h264` → 12), for numeric order. */
function numberIn(name: string): number {
  const m = /(\d+)(?!.*\d)/.exec(name);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}

/** Bounds that keep a mistaken directory (a whole disk of files) from filling memory. */
export const MAX_FRAME_FILES = 100_000;
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/**
 * Reads every frame file of `dir` of one codec, in numeric order of the numbers in their
 * names. The codec is `codec` when given, otherwise the one the files' extension names (the
 * first known extension found). Throws `ERR_MEDIA_SOURCE` naming the directory and what to do
 * when it is missing, empty or too large.
 */
/** The directory and codec arguments of readFrameDir and FrameDirWriter. */
function checkDirAndCodec(call: string, dir: unknown, codec: unknown, required: boolean): void {
  if (typeof dir !== 'string' || dir === '')
    throw invalidArgument(`${call}: dir must be a path, got ${describeValue(dir)}`);
  const codecs = Object.values(EXTENSIONS);
  if ((required || codec !== undefined) && !codecs.some((c) => c === codec))
    throw invalidArgument(
      `${call}: codec must be one of ${[...new Set(codecs)].join(', ')}, got ${describeValue(codec)}`,
    );
}

export function readFrameDir(dir: string, codec?: Codec): { codec: Codec; frames: StoredFrame[] } {
  checkDirAndCodec('readFrameDir', dir, codec, false);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    throw new KvsError(
      'ERR_MEDIA_SOURCE',
      `cannot read the frame directory ${dir}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const found = codec ?? names.map(codecOfExtension).find((c) => c !== undefined);
  if (found === undefined) {
    throw new KvsError(
      'ERR_MEDIA_SOURCE',
      `${dir} has no frame files: expected one frame per file named like frame-0001.h264 ` +
        `or sample-001.opus (extensions ${Object.keys(EXTENSIONS).join(' ')})`,
    );
  }
  const files = names
    .filter((n) => codecOfExtension(n) === found)
    .sort((a, b) => numberIn(a) - numberIn(b) || a.localeCompare(b));
  if (files.length === 0) {
    throw new KvsError('ERR_MEDIA_SOURCE', `${dir} has no ${found} frame files`);
  }
  if (files.length > MAX_FRAME_FILES) {
    throw new KvsError(
      'ERR_MEDIA_SOURCE',
      `${dir} has ${files.length} frame files; at most ${MAX_FRAME_FILES} are read`,
    );
  }
  let total = 0;
  const frames = files.map((name) => {
    const data = fs.readFileSync(path.join(dir, name));
    total += data.length;
    if (total > MAX_FRAME_BYTES) {
      throw new KvsError(
        'ERR_MEDIA_SOURCE',
        `the frames of ${dir} pass ${MAX_FRAME_BYTES} bytes; use a shorter clip`,
      );
    }
    return { data, key: isKeyFrame(found, data) };
  });
  if (kindOfCodec(found) === 'video' && !frames.some((f) => f.key)) {
    throw new KvsError(
      'ERR_MEDIA_SOURCE',
      `${dir} has no ${found} key frame: a viewer could never start decoding it`,
    );
  }
  return { codec: found, frames };
}

/** The file extension received frames of a codec are saved with. */
const SAVED_EXTENSION: Record<Codec, string> = {
  H264: '.h264',
  H265: '.h265',
  VP8: '.vp8',
  opus: '.opus',
  PCMU: '.pcmu',
  PCMA: '.pcma',
};

export function extensionOf(codec: Codec): string {
  return SAVED_EXTENSION[codec];
}

/**
 * Writes received frames one per file, named as the samples are (`frame-0001.h264`,
 * `sample-001.opus`), so that a saved directory can be streamed again with --video/--audio.
 */
export class FrameDirWriter {
  readonly dir: string;
  #count = 0;
  #prefix: string;
  #digits: number;
  #extension: string;

  constructor(dir: string, codec: Codec) {
    checkDirAndCodec('FrameDirWriter', dir, codec, true);
    this.dir = dir;
    const video = kindOfCodec(codec) === 'video';
    this.#prefix = video ? 'frame-' : 'sample-';
    this.#digits = video ? 4 : 3;
    this.#extension = extensionOf(codec);
    fs.mkdirSync(dir, { recursive: true });
  }

  get count(): number {
    return this.#count;
  }

  write(data: Uint8Array): string {
    if (!(data instanceof Uint8Array))
      throw invalidArgument(
        `FrameDirWriter.write: data must be a Buffer or Uint8Array, got ${describeValue(data)}`,
      );
    const file = path.join(
      this.dir,
      `${this.#prefix}${String(this.#count + 1).padStart(this.#digits, '0')}${this.#extension}`,
    );
    try {
      fs.writeFileSync(file, data);
    } catch (e) {
      throw new KvsError(
        'ERR_MEDIA_SOURCE',
        `FrameDirWriter.write: cannot write ${file}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    // Counted once written: a failed write leaves no gap in the numbering.
    this.#count++;
    return file;
  }
}
