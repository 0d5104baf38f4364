/**
 * The viewer web page the local service serves at `/viewer`: it plays a channel's stream in
 * any browser, with the official JS SDK (`amazon-kinesis-video-streams-webrtc`, its browser
 * bundle from the npm package) as the signaling client, a plain RTCPeerConnection, and a
 * `<video>` element. A device developer opens it to see what the device sends, with no AWS
 * account.
 *
 * The page asks the service for the channel (DescribeSignalingChannel), its endpoints
 * (GetSignalingChannelEndpoint) and its ICE servers (GetIceServerConfig), each SigV4-signed in
 * the browser with WebCrypto. The channel and the key pair come from the URL's fragment
 * (`/viewer#channel=demo&accessKeyId=...&secretAccessKey=...`), which browsers never send to a
 * server, or from the form on the page.
 *
 * Routes: `/viewer` (the page), `/viewer/app.js` (its script), `/viewer/kvs-webrtc.min.js`
 * and `/viewer/kvs-webrtc.LICENSE` (the SDK's bundle and licence, as the package ships them).
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { describeValue, readFields } from '../args.js';
import { invalidArgument } from '../errors.js';

const SDK_PACKAGE = 'amazon-kinesis-video-streams-webrtc';

/** The SDK's dist/ folder, or why it cannot be found. */
function sdkDist(): { dir: string } | { missing: string } {
  try {
    return { dir: join(dirname(require.resolve(`${SDK_PACKAGE}/package.json`)), 'dist') };
  } catch (e) {
    return {
      missing:
        `the viewer page needs the official JS SDK's browser bundle, from the npm package ` +
        `${SDK_PACKAGE}, which is not installed here (${(e as Error).message.split('\n')[0] ?? ''}). ` +
        `Install it beside kvs-webrtc: npm install ${SDK_PACKAGE}`,
    };
  }
}

const PAGE = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>KVS WebRTC viewer (local service)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5em; background: #fafafa; color: #222; }
  video { width: 640px; max-width: 100%; background: #000; display: block; margin: 1em 0; }
  form { display: grid; grid-template-columns: 10em 24em; gap: .3em .8em; align-items: center; }
  pre { background: #fff; border: 1px solid #ddd; padding: .6em; max-width: 60em; white-space: pre-wrap; }
  .error { color: #b00020; }
</style>
</head>
<body>
<h1>KVS WebRTC viewer</h1>
<p>Plays a signaling channel's stream through this local Kinesis Video Streams service, with
the official <code>amazon-kinesis-video-streams-webrtc</code> SDK as the viewer.</p>
<form id="form">
  <label for="channel">Channel name</label><input id="channel" name="channel" required>
  <label for="region">Region</label><input id="region" name="region" value="us-west-2">
  <label for="accessKeyId">Access key id</label><input id="accessKeyId" name="accessKeyId" required>
  <label for="secretAccessKey">Secret access key</label><input id="secretAccessKey" name="secretAccessKey" type="password" required>
  <label for="sessionToken">Session token</label><input id="sessionToken" name="sessionToken">
  <label for="clientId">Client id</label><input id="clientId" name="clientId">
  <label for="relay">TURN only</label><input id="relay" name="relay" type="checkbox">
  <span></span><button id="start" type="submit">Start viewer</button>
</form>
<video id="video" autoplay playsinline muted controls></video>
<pre id="status">not started</pre>
<pre id="log"></pre>
<script src="/viewer/kvs-webrtc.min.js"></script>
<script src="/viewer/app.js"></script>
</body>
</html>
`;

// The page's script: plain browser JavaScript, no build step.
const APP = String.raw`'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var logLines = [];
  function log(line, isError) {
    logLines.push(new Date().toISOString().slice(11, 23) + ' ' + line);
    if (logLines.length > 200) logLines.shift();
    $('log').textContent = logLines.join('\n');
    if (isError) $('log').className = 'error';
  }
  var enc = new TextEncoder();
  function hex(buf) {
    return Array.prototype.map.call(new Uint8Array(buf), function (b) {
      return ('0' + b.toString(16)).slice(-2);
    }).join('');
  }
  function sha256(text) { return crypto.subtle.digest('SHA-256', enc.encode(text)); }
  function hmac(key, text) {
    return crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
      .then(function (k) { return crypto.subtle.sign('HMAC', k, enc.encode(text)); });
  }

  // One SigV4-signed POST of JSON (service kinesisvideo), as the AWS SDKs sign it.
  async function call(url, body, creds, region) {
    var u = new URL(url);
    var text = JSON.stringify(body);
    var amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    var day = amzDate.slice(0, 8);
    var headers = { 'content-type': 'application/json', host: u.host, 'x-amz-date': amzDate };
    if (creds.sessionToken) headers['x-amz-security-token'] = creds.sessionToken;
    var names = Object.keys(headers).sort();
    var canonicalHeaders = names.map(function (n) { return n + ':' + headers[n] + '\n'; }).join('');
    var signedHeaders = names.join(';');
    var canonical = ['POST', u.pathname, '', canonicalHeaders, signedHeaders,
      hex(await sha256(text))].join('\n');
    var scope = day + '/' + region + '/kinesisvideo/aws4_request';
    var toSign = ['AWS4-HMAC-SHA256', amzDate, scope, hex(await sha256(canonical))].join('\n');
    var key = enc.encode('AWS4' + creds.secretAccessKey);
    var parts = [day, region, 'kinesisvideo', 'aws4_request'];
    for (var i = 0; i < parts.length; i++) key = await hmac(key, parts[i]);
    var signature = hex(await hmac(key, toSign));
    var send = Object.assign({}, headers);
    delete send.host;
    send.authorization = 'AWS4-HMAC-SHA256 Credential=' + creds.accessKeyId + '/' + scope +
      ', SignedHeaders=' + signedHeaders + ', Signature=' + signature;
    var res = await fetch(url, { method: 'POST', headers: send, body: text });
    var answer = await res.json().catch(function () { return {}; });
    if (!res.ok) {
      throw new Error(u.pathname + ': ' + res.status + ' ' + (answer.__type || '') + ' ' +
        (answer.Message || answer.message || ''));
    }
    return answer;
  }

  var state = { started: false, error: null, connectionState: 'new', framesDecoded: 0,
    frameWidth: 0, frameHeight: 0, bytesReceived: 0, bitrate: 0, rttMs: null, pair: null,
    messages: [] };
  window.kvsViewer = { state: state, pc: null, signaling: null };

  async function start(p) {
    if (state.started) return;
    state.started = true;
    $('start').disabled = true;
    var region = p.region || 'us-west-2';
    var creds = { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey };
    if (p.sessionToken) creds.sessionToken = p.sessionToken;
    var clientId = p.clientId || ('page-' + Math.random().toString(36).slice(2, 10));
    var origin = p.endpoint || location.origin;
    try {
      var info = await call(origin + '/describeSignalingChannel', { ChannelName: p.channel }, creds, region);
      var arn = info.ChannelInfo.ChannelARN;
      log('channel ' + arn);
      var ep = await call(origin + '/getSignalingChannelEndpoint', {
        ChannelARN: arn,
        SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'HTTPS'], Role: 'VIEWER' },
      }, creds, region);
      var endpoints = {};
      ep.ResourceEndpointList.forEach(function (e) { endpoints[e.Protocol] = e.ResourceEndpoint; });
      var ice = await call(endpoints.HTTPS + '/v1/get-ice-server-config',
        { ChannelARN: arn, ClientId: clientId }, creds, region);
      var iceServers = (ice.IceServerList || []).map(function (s) {
        return { urls: s.Uris, username: s.Username, credential: s.Password };
      });
      log(iceServers.length + ' TURN server(s); client id ' + clientId);
      var pc = new RTCPeerConnection({ iceServers: iceServers,
        iceTransportPolicy: p.relay ? 'relay' : 'all' });
      window.kvsViewer.pc = pc;
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
      var channel = pc.createDataChannel('kvsDataChannel');
      channel.onmessage = function (e) {
        state.messages.push(String(e.data));
        log('message: ' + String(e.data).slice(0, 200));
      };
      window.kvsViewer.send = function (text) { channel.send(text); };
      var stream = new MediaStream();
      pc.ontrack = function (e) {
        stream.addTrack(e.track);
        $('video').srcObject = stream;
        $('video').play().catch(function () { /* autoplay waits for the user */ });
        log('track ' + e.track.kind);
      };
      pc.onconnectionstatechange = function () {
        state.connectionState = pc.connectionState;
        log('peer connection ' + pc.connectionState);
      };
      var signaling = new KVSWebRTC.SignalingClient({
        channelARN: arn, channelEndpoint: endpoints.WSS, clientId: clientId,
        role: KVSWebRTC.Role.VIEWER, region: region, credentials: creds, systemClockOffset: 0,
      });
      window.kvsViewer.signaling = signaling;
      pc.onicecandidate = function (e) { if (e.candidate) signaling.sendIceCandidate(e.candidate); };
      signaling.on('open', async function () {
        log('signaling open: sending the offer');
        var offer = await pc.createOffer();
        await pc.setLocalDescription(offer);
        signaling.sendSdpOffer(pc.localDescription);
      });
      signaling.on('sdpAnswer', function (answer) {
        log('answer received');
        pc.setRemoteDescription(answer).catch(function (e) { fail(e); });
      });
      signaling.on('iceCandidate', function (c) {
        pc.addIceCandidate(c).catch(function (e) { log('addIceCandidate: ' + e, true); });
      });
      signaling.on('error', function (e) { log('signaling error: ' + (e && e.message || e), true); });
      signaling.on('close', function () { log('signaling closed'); });
      signaling.open();
      setInterval(function () { report(pc); }, 1000);
    } catch (e) {
      fail(e);
    }
  }

  function fail(e) {
    state.error = String(e && e.message || e);
    log(state.error, true);
  }

  var lastBytes = 0, lastAt = 0;
  async function report(pc) {
    var stats = await pc.getStats();
    var pairId = null;
    stats.forEach(function (s) {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    stats.forEach(function (s) {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        state.framesDecoded = s.framesDecoded || 0;
        state.frameWidth = s.frameWidth || 0;
        state.frameHeight = s.frameHeight || 0;
        var now = s.timestamp;
        if (lastAt) state.bitrate = Math.round((s.bytesReceived - lastBytes) * 8000 / (now - lastAt));
        state.bytesReceived = s.bytesReceived;
        lastBytes = s.bytesReceived; lastAt = now;
      }
      if (s.type === 'candidate-pair' && s.id === pairId) {
        state.rttMs = s.currentRoundTripTime === undefined ? null : s.currentRoundTripTime * 1000;
        var l = stats.get(s.localCandidateId), r = stats.get(s.remoteCandidateId);
        state.pair = (l ? l.candidateType + ' ' + l.address + ':' + l.port : '?') + ' <-> ' +
          (r ? r.candidateType + ' ' + r.address + ':' + r.port : '?');
      }
    });
    var v = $('video');
    $('status').textContent = 'state ' + state.connectionState +
      ' | frames decoded ' + state.framesDecoded +
      ' | ' + state.frameWidth + 'x' + state.frameHeight +
      ' (video element ' + v.videoWidth + 'x' + v.videoHeight + ')' +
      ' | ' + (state.bitrate / 1000).toFixed(0) + ' kbit/s' +
      ' | rtt ' + (state.rttMs === null ? '-' : state.rttMs.toFixed(1) + ' ms') +
      '\npair ' + (state.pair || 'none');
  }

  var fields = ['channel', 'region', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'clientId'];
  var hash = new URLSearchParams(location.hash.slice(1));
  fields.forEach(function (f) { if (hash.get(f)) $(f).value = hash.get(f); });
  $('relay').checked = hash.get('relay') === '1';
  $('form').onsubmit = function (e) {
    e.preventDefault();
    var p = { relay: $('relay').checked, endpoint: hash.get('endpoint') };
    fields.forEach(function (f) { p[f] = $(f).value.trim(); });
    start(p);
  };
  if (typeof KVSWebRTC === 'undefined') {
    fail('the KVS WebRTC SDK bundle did not load from /viewer/kvs-webrtc.min.js: see the service log');
  } else if (hash.get('channel') && hash.get('accessKeyId') && hash.get('secretAccessKey')) {
    $('form').requestSubmit();
  }
})();
`;

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res
    .writeHead(status, {
      'Content-Type': type,
      'Content-Length': String(Buffer.byteLength(body)),
      'Cache-Control': 'no-store',
      // The page runs only its own scripts and talks only to this origin.
      'Content-Security-Policy':
        "default-src 'self'; script-src 'self'; style-src 'unsafe-inline'; media-src 'self' blob:; connect-src 'self' wss:",
    })
    .end(body);
}

let sdkCache: Map<string, Buffer> | undefined;

function sdkFile(name: string): Buffer | string {
  const dist = sdkDist();
  if ('missing' in dist) return dist.missing;
  sdkCache ??= new Map();
  let bytes = sdkCache.get(name);
  if (!bytes) {
    try {
      bytes = readFileSync(join(dist.dir, name));
    } catch (e) {
      return `${SDK_PACKAGE}: ${(e as Error).message}`;
    }
    sdkCache.set(name, bytes);
  }
  return bytes;
}

/**
 * Serves the page's routes (GET only); false when `path` is not one of them. `log` hears why
 * the SDK bundle cannot be served, once per request that asks for it.
 */
export function serveViewerPage(
  path: string,
  res: ServerResponse,
  log: (line: string) => void,
): boolean {
  switch (path) {
    case '/viewer':
    case '/viewer/':
      send(res, 200, 'text/html; charset=utf-8', PAGE);
      return true;
    case '/viewer/app.js':
      send(res, 200, 'text/javascript; charset=utf-8', APP);
      return true;
    case '/viewer/kvs-webrtc.min.js':
    case '/viewer/kvs-webrtc.LICENSE': {
      const name = path.slice('/viewer/'.length);
      const file = sdkFile(name);
      if (typeof file === 'string') {
        log(file);
        send(res, 404, 'text/plain; charset=utf-8', file);
      } else {
        send(
          res,
          200,
          name.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/plain',
          file,
        );
      }
      return true;
    }
    default:
      return false;
  }
}

/** The page's URL for a channel, with the key pair in the fragment (never sent to a server). */
export function viewerPageUrl(
  endpoint: string,
  p: {
    channel: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    relay?: boolean;
  },
): string {
  if (typeof endpoint !== 'string' || !/^https:\/\//.test(endpoint))
    throw invalidArgument(
      `viewerPageUrl: endpoint must be an https:// URL, got ${describeValue(endpoint)}`,
    );
  const fields = readFields(p, 'viewerPageUrl: params', [
    'channel',
    'region',
    'accessKeyId',
    'secretAccessKey',
  ]);
  for (const k of ['channel', 'region', 'accessKeyId', 'secretAccessKey'] as const) {
    if (typeof fields?.[k] !== 'string')
      throw invalidArgument(
        `viewerPageUrl: params.${k} must be a string, got ${describeValue(fields?.[k])}`,
      );
  }
  const hash = new URLSearchParams({
    channel: p.channel,
    region: p.region,
    accessKeyId: p.accessKeyId,
    secretAccessKey: p.secretAccessKey,
  });
  if (p.relay) hash.set('relay', '1');
  return `${endpoint}/viewer#${hash.toString()}`;
}
