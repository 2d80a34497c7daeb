import '../sandbox/runner/polyfills';
import { CommanderError } from 'commander';
import { CertflowError, ConfigError } from '../functions/contracts/errors';
import { CliError, ExitCodes } from './cli/cli-error';
import { colorEnabled, createPaint } from './cli/output';
import { buildProgram } from './cli/program';

/**
 * The `certflow` operator CLI. Compiled to dist/certflow.js by `npm run build` (run by `npm ci`
 * through `prepare`), so it starts without a TypeScript loader. Every failure ends in one line on
 * stderr and a documented exit code; only an error nobody anticipated prints its stack (exit 70).
 */
async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCodes.Ok;
  const paint = createPaint(colorEnabled(process.stderr, argv.includes('--no-color') ? false : undefined));
  const program = buildProgram((code) => {
    exitCode = code;
  }, paint.bad);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; every other parse failure is a usage error.
      if (error.exitCode === 0) return ExitCodes.Ok;
      return ExitCodes.Usage;
    }
    throw error;
  }
  return exitCode;
}

/** Exit only once stdout is flushed: a large -o json document to a pipe is written asynchronously. */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

function fail(message: string, code: number): void {
  const paint = createPaint(colorEnabled(process.stderr, process.argv.includes('--no-color') ? false : undefined));
  process.stderr.write(`${paint.bad('certflow:')} ${message}\n`);
  exitAfterFlush(code);
}

/**
 * Failures of the world rather than of certflow: an AWS service answer (the SDK marks those with
 * `$metadata`), missing credentials, a network error. One line and exit 4, no stack.
 */
function isEnvironmentError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if ('$metadata' in error) return true;
  if (/^Region (is missing|not accepted)/.test(error.message)) return true;
  if (error.name === 'CredentialsProviderError' || error.name === 'TimeoutError') return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN'].includes(code);
}

// A reader that stops early (`certflow help | head`) closes the pipe: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(ExitCodes.Ok);
  throw error;
});

/** The failure in one line, with what fixes it where that is known. */
function environmentMessage(error: Error): string {
  if (/^Region (is missing|not accepted)/.test(error.message)) return 'no AWS region: pass --region, set AWS_REGION, or name an ARN (its region is used)';
  if (error.name === 'CredentialsProviderError') return `no AWS credentials: pass --profile, or set AWS_PROFILE or AWS_ACCESS_KEY_ID (${error.message.split('\n')[0]})`;
  if (error.name === 'ExecutionDoesNotExist') return `no such execution: ${error.message}; list the runs with \`certflow runs\``;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('E')) {
    // A sandbox stopped mid-command, or an endpoint that does not answer: say which, and what to do.
    const address = (error as { address?: string; port?: number }).address;
    const port = (error as { port?: number }).port;
    return `could not reach ${address ? `${address}${port ? `:${port}` : ''}` : 'the service'} (${code}): with --local, is \`certflow sandbox\` still running? Otherwise check the network and --region`;
  }
  return `${error.name}: ${error.message.split('\n')[0]}`;
}

main(process.argv.slice(2)).then(exitAfterFlush, (error: unknown) => {
  if (error instanceof CliError) return fail(error.message, error.exitCode);
  if (error instanceof ConfigError) return fail(error.message, ExitCodes.Config);
  if (error instanceof CertflowError) return fail(`${error.name}: ${error.message}`, ExitCodes.WorkflowFailed);
  if (isEnvironmentError(error)) return fail(environmentMessage(error as Error), ExitCodes.Environment);
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  fail(`internal error (a bug in certflow; please report it with this output):\n${stack}`, ExitCodes.Internal);
});
