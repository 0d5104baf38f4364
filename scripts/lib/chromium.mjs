// How the project starts Debian's Chromium headless (as root, no GPU, no background
// traffic: this machine reaches nothing outside), for the SDP capture and the interop tests.
export const CHROMIUM_EXECUTABLE = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  // Real host addresses instead of mDNS names: no multicast, and usable candidates.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];
