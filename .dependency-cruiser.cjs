/**
 * The layer rules of DESIGN.md, enforced in `npm test` (npm run lint). A violation fails the build.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const vendorSdks = '^node_modules/(node-vault|@aws-sdk|@smithy|@kubernetes|aws-cdk-lib|constructs|cdk-nag|axios)';
/**
 * Pure format libraries (bytes in, values out, no I/O): domain/ may use them, so that no
 * layer rule pushes anyone into re-implementing X.509, ASN.1 or path validation (STYLE.md habit 4).
 * lru-cache is among them as the bounded in-memory map the parsers keep their results in
 * (functions/domain/content-cache.ts; no TTL is set, so it starts no timer).
 */
const pureFormatLibraries = '(^|/)node_modules/(zod|@peculiar/(x509|asn1-[a-z0-9-]+)|pkijs|asn1js|reflect-metadata|lru-cache)/';

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'functions/domain/ imports itself, the contracts of names it reasons about, and pure format libraries.',
      severity: 'error',
      from: { path: '^functions/domain/' },
      to: { pathNot: ['^functions/domain/', '^functions/contracts/', pureFormatLibraries], dependencyTypesNot: ['core'] },
    },
    {
      name: 'domain-no-node-io',
      comment: 'domain/ is pure: no file system, network or process access.',
      severity: 'error',
      from: { path: '^functions/domain/' },
      to: { dependencyTypes: ['core'], pathNot: ['^(node:)?crypto$'] },
    },
    {
      name: 'steps-use-ports-not-vendors',
      comment: 'functions/steps/ orchestrates ports and domain; only adapters/ import vendor SDKs.',
      severity: 'error',
      from: { path: '^functions/steps/' },
      to: { pathNot: ['^functions/(steps|domain|ports|contracts)/', '^node_modules/zod'] },
    },
    {
      name: 'ports-are-interfaces',
      severity: 'error',
      from: { path: '^functions/ports/' },
      to: { pathNot: ['^functions/(ports|contracts)/'] },
    },
    {
      name: 'only-adapters-import-vendor-sdks',
      severity: 'error',
      from: { path: '^functions/', pathNot: '^functions/adapters/' },
      // Format libraries are governed by domain-is-pure (and steps, ports by their own rules).
      to: { path: vendorSdks, pathNot: pureFormatLibraries },
    },
    {
      name: 'lib-imports-only-contracts',
      comment: 'lib/ (CDK) imports functions/contracts/ and nothing else of functions/.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^functions/', pathNot: '^functions/contracts/' },
    },
    {
      name: 'nothing-imports-tests',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
    {
      name: 'functions-do-not-import-sandbox',
      comment: 'The sandbox may use functions/, never the other way round.',
      severity: 'error',
      from: { path: '^(functions|lib)/' },
      to: { path: '^sandbox/' },
    },
    {
      name: 'emulators-do-not-use-certflow-domain',
      comment:
        'DESIGN.md: an emulator never uses certflow\'s own parsers or checkers to decide what it answers (one that shares the code under test cannot catch its mistakes). sandbox/compose/ is not an emulator: it seeds fixtures from the config (the declared services) and drives the CLI flows.',
      severity: 'error',
      from: { path: '^sandbox/', pathNot: '^sandbox/compose/' },
      to: { path: '^functions/domain/' },
    },
    {
      name: 'agpl-evaluator-only-in-the-sandbox',
      comment:
        '@cloud-copilot/* (the IAM evaluator) is AGPL-3.0 and a devDependency: only sandbox/iam/iam-evaluator.ts imports it, so it never reaches the Lambda bundles or the CLI outside the sandbox.',
      severity: 'error',
      from: { pathNot: '^sandbox/iam/iam-evaluator\\.ts$' },
      to: { path: '^node_modules/@cloud-copilot/' },
    },
    {
      name: 'agpl-evaluator-loaded-lazily',
      comment:
        'iam-evaluator.ts is loaded only by iam-authorizer.ts, with import() when a sandbox enforces IAM: a static import would make every CLI command (bin/ imports sandbox/ constants) load the AGPL package.',
      severity: 'error',
      from: {},
      to: { path: '^sandbox/iam/iam-evaluator\\.ts$', dependencyTypesNot: ['dynamic-import', 'type-only', 'type-import'] },
    },
    {
      name: 'agpl-evaluator-loaded-only-by-the-authorizer',
      severity: 'error',
      from: { pathNot: '^sandbox/iam/iam-authorizer\\.ts$' },
      to: { path: '^sandbox/iam/iam-evaluator\\.ts$' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
