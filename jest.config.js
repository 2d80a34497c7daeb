// ESM-only dependencies of pkijs 4 (the trust checker's engine), transformed to CommonJS by swc.
// @kubernetes/client-node 2.x and its ESM-only dependencies are not among them: jest loads the
// package from one esbuild bundle (moduleNameMapper below).
const esmOnly = ['pkijs', 'asn1js', 'bytestreamjs', '@noble/hashes', '@peculiar/utils'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript', decorators: true }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  // One esbuild bundle of the Kubernetes client instead of swc's transform of its ESM, file by
  // file, in every test file (test/support/jest-prebundles.ts; `npm test` builds it beside the
  // synthesis, the global setup when jest runs alone).
  moduleNameMapper: { '^@kubernetes/client-node$': '<rootDir>/node_modules/.cache/jest-prebundled/kubernetes-client-node.cjs' },
  setupFiles: ['<rootDir>/test/support/polyfills.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testSequencer: '<rootDir>/test/support/slow-first-sequencer.js',
  // Jest's transform cache with certflow's other caches, not in the temp directory.
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
  maxWorkers: 2,
  // A worker keeps the bundles it loaded (Node's module cache) from file to file; one that has grown
  // past this is replaced between files rather than running out of heap.
  workerIdleMemoryLimit: '2GB',
  testTimeout: 60000,
};
