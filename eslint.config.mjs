// ESLint (flat config): typescript-eslint's type-aware rules over src/, the JS recommended rules over
// the tests, bench, scripts and the demo app. `npm run lint` runs it with clang-format's check.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['dist/**', 'build/**', 'prebuilds/**', 'test/native/build/**', 'test-artifacts/**', '**/node_modules/**', 'demo-app/dist/**'],
  },
  js.configs.recommended,
  {
    files: ['src/**/*.ts', 'src/**/*.mts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.cjs', 'scripts/**/*.js', 'demo-app/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
  },
  {
    // Renderer code runs in a browser page (and the tests evaluate some of it there).
    files: ['src/electron/renderer/**', 'demo-app/renderer/**', 'test/electron/**', 'test/tree/status-table.test.mjs'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
