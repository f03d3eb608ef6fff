/**
 * `npm run test:mutation` (StrykerJS, stryker.config.json): the pure unit tests of the mutated modules only, with no
 * global setup (nothing is built, no emulator, no twilio-run), so that each mutant runs in well under a second.
 */
const { transform, testEnvironment } = require('./jest.config');

module.exports = {
  testEnvironment,
  transform,
  rootDir: __dirname,
  roots: ['<rootDir>/test/unit'],
  testMatch: [
    '<rootDir>/test/unit/twilio/retry-policy.test.ts',
    '<rootDir>/test/unit/twilio/object-rate-limiter.test.ts',
    '<rootDir>/test/unit/tokens/lifetime.test.ts',
    '<rootDir>/test/unit/tokens/identity.test.ts',
    '<rootDir>/test/unit/auth/flex-token-cache.test.ts',
    '<rootDir>/test/unit/client/backoff.test.ts',
    '<rootDir>/test/unit/client/token-cache.entries.test.ts',
    '<rootDir>/test/unit/client/token-cache.test.ts',
    '<rootDir>/test/unit/client/expiry.test.ts',
    '<rootDir>/test/unit/recent-calls/call-record.test.ts',
    '<rootDir>/test/unit/recent-calls/cursor.test.ts',
    '<rootDir>/test/unit/recent-calls/window-size.test.ts',
    '<rootDir>/test/unit/recent-calls/attempts.test.ts',
    '<rootDir>/test/unit/recent-calls/window-commit.test.ts',
    '<rootDir>/test/unit/recent-calls/run-summary.test.ts',
    '<rootDir>/test/unit/recent-calls/run-budget.test.ts',
    '<rootDir>/test/unit/recent-calls/checkpoint-state.test.ts',
    '<rootDir>/test/unit/recent-calls/write-schedule.test.ts',
    '<rootDir>/test/unit/recent-calls/cursor.boundaries.test.ts',
    '<rootDir>/test/unit/recent-calls/window-size.boundaries.test.ts',
    '<rootDir>/test/unit/recent-calls/window-commit.boundaries.test.ts',
    '<rootDir>/test/unit/recent-calls/run-summary.boundaries.test.ts',
    '<rootDir>/test/unit/recent-calls/attempts.stored.test.ts',
  ],
};
