// Node 20 has no Promise.withResolvers; aws-local-stepfunctions 3 uses it (TOOLCHAIN.md).
// Loaded by the local runner and by jest's setupFiles, never by a Lambda bundle.
import 'reflect-metadata';

// This machine runs Node 20 (TOOLCHAIN.md); the deployed Lambdas run nodejs24.x. The SDK's notice
// about future releases needing Node 22 is known and says nothing about a run, so it is muted here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

type Resolvers<T> = { promise: Promise<T>; resolve: (value: T | PromiseLike<T>) => void; reject: (reason?: unknown) => void };

const promiseCtor = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof promiseCtor.withResolvers !== 'function') {
  promiseCtor.withResolvers = function withResolvers<T>(): Resolvers<T> {
    let resolve!: Resolvers<T>['resolve'];
    let reject!: Resolvers<T>['reject'];
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
