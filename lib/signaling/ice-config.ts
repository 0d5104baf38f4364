/**
 * ICE server configuration from GetIceServerConfig: conversion to RTCIceServer shape and the
 * C SDK's expiry rule (fetch time + smallest TTL − 30 s grace). Pure.
 */
import type { RawIceServer } from '../channel/api.js';

/** An ICE server as RTCPeerConnection takes it. */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export type { RawIceServer } from '../channel/api.js';

/** Refresh this long before the smallest TTL runs out (the C SDK's grace). */
export const ICE_CONFIG_GRACE_MS = 30_000;
/** When the service returns no servers (or no TTL), ask again after this long. */
export const ICE_CONFIG_DEFAULT_TTL_SECONDS = 300;

export interface IceConfig {
  servers: IceServer[];
  fetchedAt: number;
  /** When to fetch again: the smallest TTL less the grace. */
  expiresAt: number;
  /** When the first TURN credentials run out (fetch time + smallest TTL); none without a TTL. */
  credentialsExpireAt?: number;
}

export function iceConfigFrom(
  list: RawIceServer[],
  fetchedAt: number,
  stunUrl: string | undefined,
): IceConfig {
  const servers: IceServer[] = [];
  if (stunUrl) servers.push({ urls: [stunUrl] });
  let minTtl = Infinity;
  for (const s of list) {
    const urls = (s.Uris ?? []).filter((u) => typeof u === 'string');
    if (urls.length === 0) continue;
    const server: IceServer = { urls };
    if (s.Username !== undefined) server.username = s.Username;
    if (s.Password !== undefined) server.credential = s.Password;
    servers.push(server);
    if (typeof s.Ttl === 'number' && s.Ttl > 0) minTtl = Math.min(minTtl, s.Ttl);
  }
  const ttlMs = (Number.isFinite(minTtl) ? minTtl : ICE_CONFIG_DEFAULT_TTL_SECONDS) * 1000;
  // Never refresh more often than every second, however small the TTL.
  const expiresAt = fetchedAt + Math.max(1000, ttlMs - ICE_CONFIG_GRACE_MS);
  return Number.isFinite(minTtl)
    ? { servers, fetchedAt, expiresAt, credentialsExpireAt: fetchedAt + ttlMs }
    : { servers, fetchedAt, expiresAt };
}

/** The STUN server the C SDK puts first for a region of the real service. */
export function defaultStunUrl(region: string): string {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `stun:stun.kinesisvideo.${region}.${suffix}:443`;
}
