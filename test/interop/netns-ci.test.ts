// The namespace suites skip on a machine without the privilege, but never under CI.
import { describe, expect, it } from 'vitest';
import { isCi, skipWithoutNetns } from '../helpers/netns.js';

describe('namespace suites without the privilege', () => {
  const cannot = () => false;
  const can = () => true;

  it('skip on a developer machine', () => {
    expect(skipWithoutNetns('suite', cannot, {})).toBe(true);
    expect(skipWithoutNetns('suite', cannot, { CI: 'false' })).toBe(true);
  });

  it('fail under CI=true (or CI=1), naming the suite and the cause', () => {
    expect(() => skipWithoutNetns('behind NATs', cannot, { CI: 'true' })).toThrow(
      /^behind NATs: CI is set, but network namespaces cannot be made/,
    );
    expect(() => skipWithoutNetns('x', cannot, { CI: '1' })).toThrow(/CAP_SYS_ADMIN/);
    expect(isCi({ CI: 'true' })).toBe(true);
    expect(isCi({})).toBe(false);
  });

  it('run wherever namespaces can be made', () => {
    expect(skipWithoutNetns('suite', can, { CI: 'true' })).toBe(false);
    expect(skipWithoutNetns('suite', can, {})).toBe(false);
  });
});
