// KvsError at the boundaries: native failures keep their registered code, sync or async, and
// the facade's own errors carry theirs.
import { describe, expect, it } from 'vitest';
import { KvsError, PeerConnection, SignalingClient } from '../../lib/index.js';

describe('KvsError', () => {
  it('keeps a registered native code and maps anything else to ERR_NATIVE_UNKNOWN', () => {
    const known = Object.assign(new Error('bad line 3'), { code: 'ERR_SDP_MALFORMED' });
    const k = KvsError.fromNative(known, 'setRemoteDescription');
    expect(k).toBeInstanceOf(KvsError);
    expect(k.code).toBe('ERR_SDP_MALFORMED');
    expect(k.message).toBe('setRemoteDescription: bad line 3');
    expect(k.cause).toBe(known);

    const unknown = Object.assign(new Error('new failure'), { code: 'ERR_SOMETHING_NEW' });
    const u = KvsError.fromNative(unknown, 'createOffer');
    expect(u.code).toBe('ERR_NATIVE_UNKNOWN');
    expect(u.message).toBe('createOffer: new failure [ERR_SOMETHING_NEW]');

    const uncoded = KvsError.fromNative(new TypeError('A number was expected'), 'getStats');
    expect(uncoded.code).toBe('ERR_NATIVE_UNKNOWN');
    expect(KvsError.fromNative('a string', 'x').message).toBe('x: a string');
    expect(KvsError.fromNative(k, 'again')).toBe(k);
  });

  it("is what the native constructor's synchronous failure becomes", () => {
    let caught: unknown;
    try {
      new PeerConnection({ certificate: { certificatePem: 'not a PEM', privateKeyPem: 'x' } });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(KvsError);
    expect(caught).toMatchObject({ code: 'ERR_DTLS_CERTIFICATE' });
    expect((caught as KvsError).message).toMatch(/^PeerConnection: /);
  });

  it('is what a native rejection becomes', async () => {
    const pc = new PeerConnection({ interfaces: { only: ['127.0.0.1'] } });
    try {
      const err = await pc.setRemoteDescription({ type: 'answer', sdp: 'v=0\r\n' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KvsError);
      expect((err as KvsError).code).toMatch(/^ERR_(INVALID_STATE|SDP_[A-Z_]+)$/);
    } finally {
      await pc.close();
    }
  });

  it('is what an unreadable caCertPath becomes', () => {
    const make = () =>
      new SignalingClient({
        channelName: 'c',
        role: 'MASTER',
        region: 'us-west-2',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
        caCertPath: '/nonexistent/ca.pem',
      });
    expect(make).toThrow(KvsError);
    expect(make).toThrow(/caCertPath \/nonexistent\/ca\.pem cannot be read/);
    let code: unknown;
    try {
      make();
    } catch (e) {
      code = (e as KvsError).code;
    }
    expect(code).toBe('ERR_INVALID_ARGUMENT');
  });
});
