import path from 'node:path';

/** The package root, whichever test file asks. */
export const ROOT = path.resolve(__dirname, '..', '..');
