import { describe, expect, it } from 'vitest';
import { KvsError, SRTP_PROFILES, selfTest } from '../../lib/index.js';

// Bytes each profile adds to an RTP packet: RFC 5764 §4.1.2 tags, RFC 7714's 16-byte GCM tag.
const RTP_TAG_BYTES = {
  AES_CM_128_HMAC_SHA1_80: 10,
  AES_CM_128_HMAC_SHA1_32: 4,
  AEAD_AES_128_GCM: 16,
} as const;

describe('selfTest(): in-memory DTLS 1.2 handshake and SRTP with the linked libraries', () => {
  it.each(SRTP_PROFILES)('%s: handshake, key export, protect/unprotect both ways', (profile) => {
    const [report] = selfTest({ profiles: [profile] });
    expect(report).toBeDefined();
    if (!report) return;
    expect(report.profile).toBe(profile);
    expect(report.dtlsVersion).toBe('DTLSv1.2');
    expect(report.cipher).toMatch(/^ECDHE-ECDSA-/);
    expect(report.datagrams.clientToServer).toBeGreaterThanOrEqual(2);
    expect(report.datagrams.serverToClient).toBeGreaterThanOrEqual(1);
    expect(report.fingerprints.client).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(report.fingerprints.server).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(report.fingerprints.client).not.toBe(report.fingerprints.server);
    expect(report.srtp.protectedBytes - report.srtp.rtpBytes).toBe(RTP_TAG_BYTES[profile]);
    expect(report.srtp.protectedRtcpBytes).toBeGreaterThan(report.srtp.rtcpBytes + 4);
    expect(report.srtp.tamperRejected).toBe(true);
    expect(report.srtp.replayRejected).toBe(true);
    expect(report.sctp.socketCreated).toBe(true);
  });

  it('runs every profile by default, with fresh certificates each time', () => {
    const reports = selfTest();
    expect(reports.map((r) => r.profile)).toEqual([...SRTP_PROFILES]);
    const fingerprints = new Set(
      reports.flatMap((r) => [r.fingerprints.client, r.fingerprints.server]),
    );
    expect(fingerprints.size).toBe(reports.length * 2);
  });

  it('refuses unknown profiles, naming the field and the choices', () => {
    const call = () => selfTest({ profiles: ['AEAD_AES_256_GCM' as never] });
    expect(call).toThrow(KvsError);
    expect(call).toThrow(/options\.profiles.*AEAD_AES_256_GCM.*AES_CM_128_HMAC_SHA1_80/);
    try {
      call();
    } catch (err) {
      expect((err as KvsError).code).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(() => selfTest({ profiles: [] })).toThrow(/non-empty/);
  });
});
