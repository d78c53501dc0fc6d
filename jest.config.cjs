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
  // Each test file leaves about 50 MB of heap behind in its worker (module graphs Jest's workers
  // keep), so a worker of a full run ends with a heap of 2 to 4 GB. Node frees that heap as the
  // worker exits, which on a loaded machine takes longer than the 500 ms Jest waits ("A worker
  // process has failed to exit gracefully and has been force exited"). A worker past this after a
  // test file is replaced by a fresh one (its files' own teardown has run), so none ends that big.
  workerIdleMemoryLimit: "512MB",
};
