import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', 'prebuilds/', '.cache/'] },
  js.configs.recommended,
  // TypeScript (lib/, test/, bench/, scripts/ and the configs): the type-checked rule sets, so
  // that a promise nobody handles is an error, not a silent failure.
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    extends: [...tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Numbers in messages ("got 5", "after 3 attempts") are the point of those messages.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // `(x) => send(x)` as a callback reads as intended; statements returning void are still checked.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
    },
  },
  // lib/peer/peer-connection.ts is being changed by the core's owner at the same time; its
  // three runtime checks of untyped input (transceiver kind, description object and type)
  // compare against the declared types and trip this strict-only rule. Fixing them means
  // validating `unknown` there (as config.ts now does); until that lands, this one file keeps
  // the recommended-type-checked level for this one rule.
  {
    files: ['lib/peer/peer-connection.ts'],
    rules: { '@typescript-eslint/no-unnecessary-condition': 'off' },
  },
  // Plain JavaScript (scripts, the benchmarks, test fixtures): no types to check with.
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    extends: [...tseslint.configs.strict],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
);
