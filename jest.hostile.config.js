/** `npm run test:hostile`: generated bad input and fault injection, with a summary table of figures. */
const { roots, testMatch, testPathIgnorePatterns, ...base } = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/hostile'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 600000,
  maxWorkers: 1,
};
