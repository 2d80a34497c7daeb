import { types } from 'node:util';

// aws-local-stepfunctions 3 calls Promise.withResolvers, which Node 20 lacks (TOOLCHAIN.md).
import '../../sandbox/runner/polyfills';

// The bundles' stack frames keep their own positions under jest (sandbox/runner/bundle-loader.ts).
process.env.CERTFLOW_BUNDLE_STACKS = 'generated';

// jest runs each test file in its own vm realm, but Node core creates its errors (a refused
// socket, a TLS verification failure) in the outer realm, where `instanceof Error` is false
// (jestjs/jest#2549). The AWS SDK then wraps such an error in a new Error that keeps only its
// message (asSdkError in @smithy/core/retry), so a test would see an error without its `code`
// that no Lambda ever sees. Base `Error` therefore also recognises outer-realm native errors;
// its subclasses (TypeError, CertflowError...) keep the ordinary check.
const TestRealmError = Error;
const ordinaryInstanceOf = Function.prototype[Symbol.hasInstance];
Object.defineProperty(TestRealmError, Symbol.hasInstance, {
  configurable: true,
  value(this: (...args: unknown[]) => unknown, value: unknown): boolean {
    if (ordinaryInstanceOf.call(this, value)) return true;
    return this === TestRealmError && types.isNativeError(value);
  },
});
