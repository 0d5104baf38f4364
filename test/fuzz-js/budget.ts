/**
 * How long the JavaScript fuzz properties run. In `npm test` (vitest run) each property has a
 * fixed number of runs; `scripts/fuzz.mjs` (npm run fuzz) sets KVS_FUZZ_JS_SECONDS to run each
 * file for that long instead, split evenly between its properties, and KVS_FUZZ_JS_LOG to a
 * file where each property appends how many inputs it ran.
 */
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { expect } from 'vitest';

const seconds = Number(process.env['KVS_FUZZ_JS_SECONDS'] ?? 0);

/** Whether a time budget (npm run fuzz) is set rather than a run count. */
export const timed = seconds > 0;

/** vitest's per-test timeout for a property of a file with `properties` properties. */
export function testTimeout(properties: number): number {
  return timed ? (seconds / properties) * 1000 + 120_000 : 120_000;
}

function parameters<T>(runs: number, properties: number): fc.Parameters<T> {
  if (!timed) return { numRuns: runs };
  return {
    numRuns: Number.MAX_SAFE_INTEGER,
    plugins: [
      fc.interruptAfterTimeLimit((seconds * 1000) / properties, { failOnInterrupt: false }),
    ],
  };
}

function record(name: string, details: { numRuns: number }): void {
  const log = process.env['KVS_FUZZ_JS_LOG'];
  if (log) {
    appendFileSync(log, `${JSON.stringify({ name, execs: details.numRuns })}\n`);
  }
}

/** Checks a synchronous property; fails the test with fast-check's report (seed, shrunk input). */
export function check<T>(
  name: string,
  property: fc.IProperty<T>,
  runs: number,
  properties: number,
): void {
  const details = fc.check(property, parameters<T>(runs, properties));
  record(name, details);
  if (details.failed) expect.fail(fc.defaultReportMessage(details));
}

/** The same for an asynchronous property. */
export async function checkAsync<T>(
  name: string,
  property: fc.IAsyncProperty<T>,
  runs: number,
  properties: number,
): Promise<void> {
  const details = await fc.check(property, parameters<T>(runs, properties));
  record(name, details);
  if (details.failed) expect.fail(fc.defaultReportMessage(details));
}
