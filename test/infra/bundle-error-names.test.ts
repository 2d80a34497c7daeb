import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as errors from '../../functions/contracts/errors';
import { ErrorNames } from '../../functions/contracts/errors';
import { EnvNames } from '../../functions/contracts/env';
import { lambdaFunctions, type LambdaFunctionInfo } from '../../sandbox/runner/template-resolver';
import { loadBundle } from '../../sandbox/runner/bundle-loader';
import { assemblyDir, loadTemplate, stateMachineDefinitions } from '../support/template';

/**
 * Error names are the contract between the functions and the state machines' Retry/Catch (Lambda
 * reports `error.name`). The deployed code is minified, so this checks the synthesized bundles
 * themselves, loaded from the cloud assembly, not the TypeScript source.
 */
interface HandlerModule {
  makeHandler(env: Record<string, string>, options: { output: NodeJS.WritableStream }): (event: unknown) => Promise<unknown>;
}

const quiet = () => new Writable({ write: (_chunk, _encoding, callback) => callback() });
const functions = lambdaFunctions(loadTemplate()).filter((fn): fn is LambdaFunctionInfo & { functionId: string; assetDir: string } => Boolean(fn.functionId && fn.assetDir));

function bundlePath(fn: { assetDir: string }): string {
  return join(assemblyDir(), fn.assetDir, 'index.js');
}

function load(fn: LambdaFunctionInfo & { assetDir: string }, extraEnv: Record<string, string> = {}) {
  const env: Record<string, string> = { AWS_REGION: 'us-east-1' };
  for (const [name, value] of Object.entries(fn.environment)) env[name] = typeof value === 'string' ? value : JSON.stringify(value);
  // As the local runner loads it: Node's loader, once per process, with V8's code cache.
  const module = loadBundle(bundlePath(fn)).exports as HandlerModule;
  return module.makeHandler({ ...env, ...extraEnv }, { output: quiet() });
}

async function errorOf(run: Promise<unknown>): Promise<Error> {
  try {
    await run;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the handler to throw');
}

/** Every error name a Retry or Catch of a Lambda task matches, with the function it wraps. */
function matchedNamesByFunctionArn(): Map<string, Set<string>> {
  const byArn = new Map<string, Set<string>>();
  const visit = (states: Record<string, Record<string, unknown>>) => {
    for (const state of Object.values(states)) {
      if (state.Type === 'Map') visit(((state.ItemProcessor ?? state.Iterator) as { States: Record<string, Record<string, unknown>> }).States);
      if (state.Type === 'Parallel') for (const branch of state.Branches as Array<{ States: Record<string, Record<string, unknown>> }>) visit(branch.States);
      if (state.Type !== 'Task' || state.Resource !== 'arn:aws:states:::lambda:invoke') continue;
      const arn = String((state.Parameters as { FunctionName?: unknown }).FunctionName);
      const names = byArn.get(arn) ?? new Set<string>();
      for (const clause of [...((state.Retry as Array<{ ErrorEquals: string[] }>) ?? []), ...((state.Catch as Array<{ ErrorEquals: string[] }>) ?? [])]) {
        for (const name of clause.ErrorEquals) if (!name.startsWith('States.') && !name.startsWith('Lambda.')) names.add(name);
      }
      byArn.set(arn, names);
    }
  };
  for (const definition of Object.values(stateMachineDefinitions())) visit(definition.States as Record<string, Record<string, unknown>>);
  return byArn;
}

describe('error names in the synthesized bundles', () => {
  it('finds a bundle in the cloud assembly for every certflow function of the template', () => {
    expect(functions.length).toBeGreaterThanOrEqual(22);
    for (const fn of functions) expect(readFileSync(bundlePath(fn), 'utf8').length).toBeGreaterThan(1000);
  });

  it.each(functions.filter((fn) => fn.functionId !== 'CompromiseValidate').map((fn) => [fn.functionId, fn] as const))(
    'the %s bundle reports a bad payload as InvalidInputError, not a minified name',
    async (_id, fn) => {
      const error = await errorOf(load(fn)({ bogus: true }));

      expect(error.name).toBe(ErrorNames.InvalidInput);
      expect(error.message).toMatch(/^invalid /);
    },
  );

  it('the UnsealNode bundle reports a node it was not configured with as NodeNotFoundError', async () => {
    const unsealNode = functions.find((fn) => fn.functionId === 'UnsealNode')!;
    // The node list and the pinned CA given as values: the bundle then reads no parameter.
    const caPem = (JSON.parse(readFileSync('config/econgraph.json', 'utf8')) as { vault: { caCertificate: string } }).vault.caCertificate;
    const handler = load(unsealNode, { [EnvNames.VaultNodes]: JSON.stringify([{ id: 'vault-0', url: 'https://vault-0.example:8200' }]), [EnvNames.VaultCaPem]: caPem });

    const error = await errorOf(handler({ runId: 'r1', node: { id: 'vault-0', url: 'https://attacker.example:8200' } }));

    expect(error.name).toBe(ErrorNames.NodeNotFound);
  });

  it('names in every Retry and Catch only errors certflow declares, each thrown by at least one bundle', () => {
    const declared = new Set<string>(Object.values(ErrorNames));
    const matched = new Set([...matchedNamesByFunctionArn().values()].flatMap((names) => [...names]));
    const codes = functions.map((fn) => readFileSync(bundlePath(fn), 'utf8'));

    expect(matched.size).toBeGreaterThan(5);
    for (const name of matched) {
      expect({ name, declared: declared.has(name), inSomeBundle: codes.some((code) => code.includes(`"${name}"`)) }).toEqual({ name, declared: true, inSomeBundle: true });
    }
  });

  it('spells out the name of every certflow error class a bundle carries (its code and its name travel together)', () => {
    const classes = Object.values(ErrorNames).map((name) => {
      const ErrorClass = (errors as unknown as Record<string, new (message: string) => { code: string; name: string }>)[name]!;
      return { name, code: new ErrorClass('probe').code };
    });
    let carried = 0;
    for (const fn of functions) {
      const code = readFileSync(bundlePath(fn), 'utf8');
      for (const errorClass of classes.filter((candidate) => code.includes(`"${candidate.code}"`))) {
        carried += 1;
        expect({ fn: fn.functionId, error: errorClass.name, named: code.includes(`"${errorClass.name}"`) }).toEqual({ fn: fn.functionId, error: errorClass.name, named: true });
      }
    }
    expect(carried).toBeGreaterThan(functions.length);
  });
});
