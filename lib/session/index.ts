export {
  Master,
  ViewerSession,
  type MasterEvents,
  type MasterOptions,
  type ViewerLeftReason,
} from './master.js';
export { Viewer, type ViewerEvents, type ViewerOptions, type ViewerTimeline } from './viewer.js';
export {
  DEFAULT_TRACKS,
  defaultRegion,
  type SessionOptions,
  type SessionPeerOptions,
  type TrackSpec,
} from './options.js';
export {
  summarizeStats,
  describeCandidate,
  type CandidateInfo,
  type LinkMetrics,
} from './metrics.js';
export type { LinkCounters, LinkTimeline } from './peer-link.js';
export type { IceRestartOptions, IceRestartReason } from './ice-restart.js';
export {
  LoopingMediaSource,
  sampleTracks,
  type LoopingSourceOptions,
  type LoopingTrackInit,
  type TrackCounters,
} from '../media/looping-source.js';
export {
  FrameDirWriter,
  SAMPLES_DIR,
  isKeyFrame,
  readFrameDir,
  type StoredFrame,
} from '../media/frame-files.js';
