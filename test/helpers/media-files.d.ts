// Types of media-files.js for the vitest files.
export declare const ROOT: string;
export type VideoCodec = 'H264' | 'H265';
export declare function h264Samples(count?: number): Buffer[];
export declare function opusSamples(count?: number): Buffer[];
export declare function ivfFrames(buf: Buffer): Buffer[];
export declare function vp8Frames(): Buffer[];
export declare function isVp8Key(frame: Uint8Array): boolean;
export declare function nalUnits(annexB: Buffer): Buffer[];
export declare function h264Type(nal: Uint8Array): number;
export declare function h265Type(nal: Uint8Array): number;
export declare function h265AccessUnits(stream: Buffer): Buffer[];
export declare function h265Samples(): Buffer[];
export declare function isKeyPicture(au: Buffer, codec?: VideoCodec): boolean;
export declare function stripParameterSets(au: Buffer, codec?: VideoCodec): Buffer;
export declare function toLengthPrefixed(au: Buffer): Buffer;
export declare function carriedNals(au: Buffer, codec?: VideoCodec): string[];
