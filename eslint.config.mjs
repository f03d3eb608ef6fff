// ESLint flat config: the recommended JavaScript and typescript-eslint rules, plus the type-aware rules that catch
// promises nobody awaits. Formatting is Prettier's job (.prettierrc.json, `npm run format`); eslint-config-prettier
// turns off the style rules that would fight it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', 'coverage/', 'test-artifacts/', 'reports/', '.stryker-tmp/', 'assets/js/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // A handler registered before the value it closes over is assigned (e.g. SIGINT before the servers start).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Input validation rejects control characters on purpose (keys, identities, headers).
      'no-control-regex': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests peek into SDK payloads and fakes where a precise type adds nothing.
      '@typescript-eslint/no-explicit-any': 'off',
      // The twilio SDK types each() as returning void, yet it returns a promise the tests must await.
      '@typescript-eslint/await-thenable': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    files: ['assets/**/*.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.browser } },
  },
  prettier,
);
