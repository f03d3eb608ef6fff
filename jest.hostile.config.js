/**
 * `npm run test:hostile`: generated bad input and fault injection, with a summary table of figures printed at the
 * end by test/hostile/summary-reporter.js (each test file writes its figures to test-artifacts/hostile/*.json).
 */
const { roots, testMatch, testPathIgnorePatterns, ...base } = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/hostile'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 600000,
  maxWorkers: 1,
  reporters: ['default', '<rootDir>/test/hostile/summary-reporter.js'],
};
