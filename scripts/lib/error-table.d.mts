export const START: string;
export const END: string;
export function loadRegistry(
  root: string,
): Record<string, { from: 'native' | 'ts' | 'both'; meaning: string }>;
export function formatTable(
  registry: Record<string, { from: 'native' | 'ts' | 'both'; meaning: string }>,
): string;
export function readSection(readme: string): string | undefined;
export function replaceSection(readme: string, table: string): string;
