/**
 * One Jest config for the whole monorepo. Unit tests (`*.test.ts`) are hermetic; integration
 * tests (`*.int.test.ts`) start the real servers they need (Chroma, LangGraph's dev server).
 * ESM throughout: run with NODE_OPTIONS=--experimental-vm-modules (the test scripts set it).
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/libs", "<rootDir>/examples"],
  testMatch: ["**/src/**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/"],
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "<rootDir>/tsconfig.json" }],
  },
  setupFilesAfterEnv: ["<rootDir>/libs/engram/src/tests/jest_setup.ts"],
  // TF.js (the local embedding model) lives on globalThis; Jest's globals cleanup would break the
  // next test file that runs in the same worker.
  testEnvironmentOptions: { globalsCleanup: "off" },
  // Generous: a timeout only catches a hang, and CI runs on slow, loaded machines where the longest
  // suites (fuzz, crash, agents with the local model) have taken 2-3 minutes; waiting costs nothing.
  testTimeout: 600_000,
  maxWorkers: 2,
};
