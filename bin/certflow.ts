import '../sandbox/runner/polyfills';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { ConfigError } from '../functions/contracts/errors';
import { CertflowError } from '../functions/contracts/errors';
import { CliError, ExitCodes } from './cli/cli-error';
import { createOutput } from './cli/output';
import { simulate } from './cli/commands/simulate';
import { runSandbox } from './cli/commands/sandbox';
import { vaultInit } from './cli/commands/vault-init';
import { unseal } from './cli/commands/unseal';
import { plan } from './cli/commands/plan';
import { rotate } from './cli/commands/rotate';
import { status } from './cli/commands/status';
import { compromise } from './cli/commands/compromise';

const USAGE = `certflow <command> [options]

Commands:
  simulate            a full rotation on the embedded sandbox, with a report (what npm start runs)
  sandbox             start the embedded sandbox (Vault ready with PKI) and keep it running until Ctrl-C
  plan                dry run: the issuers, their remaining life, and whether rotation is due
  vault-init          initialize one Vault node and store its shares KMS-wrapped (never printed)
  unseal              run the Unseal workflow now
  rotate              start a Rotation run now (--intermediate forces a new intermediate)
  status [<run>]      a Rotation run's phases (an execution ARN or name; the latest run by default)
  compromise          report a key compromise (the Compromise Reported event on the certflow bus)

Options:
  --config <file>     deployment config (default: config/econgraph.json)
  --local             act on the running sandbox (\`certflow sandbox\`) instead of AWS
  --node <id>         vault-init: the node to initialize; unseal: limit to this node (repeatable)
  --share-table <n>   vault-init against AWS: the ShareTableName stack output
  --state-machine-arn <arn>  unseal against AWS: the UnsealStateMachineArn stack output
  --wait              unseal against AWS: wait for the execution to finish
  --uninitialized     sandbox: leave Vault uninitialized (to walk through vault-init yourself)
  --services <n>      simulate: a synthetic fleet of n services (the seed's five plus tls-secret ones)
  --fault <spec>      simulate: inject a fault, e.g. vault:issue:after=3 (see README, Faults)
  --intermediate      plan: as if an intermediate rotation were requested; rotate: force a new intermediate
                      compromise: --intermediate <issuer-id>, the compromised intermediate
  --service <name>    rotate: only this service; compromise: a compromised service (repeatable)
  --serial <serial>   compromise: a compromised certificate serial (repeatable)
  --reason <code>     compromise: the RFC 5280 reason (keyCompromise, cACompromise, superseded, ...)
  --reported-by <who> compromise: who reports it (default cli:<user>)
  --ticket <id>       compromise: the incident ticket
  --event-bus <name>  compromise against AWS: the EventBusName stack output (or CERTFLOW_EVENT_BUS)
  --watch             status: follow the run until it ends
  --out-dir <dir>     vault-init: where the KMS-wrapped root token is written (default .certflow)
  --json              print one JSON document instead of text
  -h, --help          this help

Exit codes: 0 ok, 1 workflow failed, 2 usage, 3 config invalid, 4 environment not ready, 5 refused`;

/** Every flag of every command; `compromise` reads `--intermediate` as a value (see main). */
const options = {
  config: { type: 'string', default: 'config/econgraph.json' },
  json: { type: 'boolean', default: false },
  local: { type: 'boolean', default: false },
  node: { type: 'string', multiple: true },
  'share-table': { type: 'string' },
  'state-machine-arn': { type: 'string' },
  wait: { type: 'boolean', default: false },
  uninitialized: { type: 'boolean', default: false },
  services: { type: 'string' },
  fault: { type: 'string' },
  intermediate: { type: 'boolean', default: false },
  'out-dir': { type: 'string', default: '.certflow' },
  help: { type: 'boolean', short: 'h', default: false },
  service: { type: 'string', multiple: true },
  serial: { type: 'string', multiple: true },
  reason: { type: 'string' },
  'reported-by': { type: 'string' },
  ticket: { type: 'string' },
  'event-bus': { type: 'string' },
  watch: { type: 'boolean', default: false },
} as const;

async function main(argv: string[]): Promise<number> {
  // `compromise --intermediate <issuer-id>` takes a value where `plan|rotate --intermediate` is a
  // switch: find the command first, then parse with the option table for it.
  const preview = parseArgs({ args: argv, allowPositionals: true, strict: false, options });
  const issuerFlag = preview.positionals[0] === 'compromise' ? { intermediate: { type: 'string' } } as const : {};
  const { values: parsed, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...options, ...issuerFlag } });
  const values = parsed as typeof parsed & { intermediate?: boolean | string };
  const [command, ...operands] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? ExitCodes.Ok : ExitCodes.Usage;
  }
  const out = createOutput({ json: values.json });
  const configPath = resolve(values.config);
  switch (command) {
    case 'simulate':
      return simulate({ configPath, ...(values.services ? { services: parseCount(values.services) } : {}), ...(values.fault ? { fault: values.fault } : {}) }, out);
    case 'sandbox':
      return runSandbox({ configPath, uninitialized: values.uninitialized }, out);
    case 'plan':
      return plan({ configPath, local: values.local, intermediate: values.intermediate === true }, out);
    case 'vault-init':
      if ((values.node?.length ?? 0) > 1) throw new CliError('vault-init initializes exactly one node: give --node once', ExitCodes.Usage);
      return vaultInit(
        { configPath, local: values.local, outDir: resolve(values['out-dir']), ...(values.node?.[0] ? { nodeId: values.node[0] } : {}), ...(values['share-table'] ? { shareTable: values['share-table'] } : {}) },
        out,
      );
    case 'unseal':
      return unseal(
        { local: values.local, wait: values.wait, ...(values.node ? { nodeIds: values.node } : {}), ...(values['state-machine-arn'] ? { stateMachineArn: values['state-machine-arn'] } : {}) },
        out,
      );
    case 'rotate':
      return rotate(
        {
          local: values.local,
          intermediate: values.intermediate === true,
          wait: values.wait,
          ...(values.service ? { services: values.service } : {}),
          ...(values['state-machine-arn'] ? { stateMachineArn: values['state-machine-arn'] } : {}),
        },
        out,
      );
    case 'status':
      if (operands.length > 1) throw new CliError('status takes at most one execution ARN or name', ExitCodes.Usage);
      return status(
        { local: values.local, watch: values.watch, ...(operands[0] ? { execution: operands[0] } : {}), ...(values['state-machine-arn'] ? { stateMachineArn: values['state-machine-arn'] } : {}) },
        out,
      );
    case 'compromise':
      return compromise(
        {
          local: values.local,
          ...(values.service ? { services: values.service } : {}),
          ...(values.serial ? { serials: values.serial } : {}),
          ...(typeof values.intermediate === 'string' ? { intermediate: values.intermediate } : {}),
          ...(values.reason !== undefined ? { reason: values.reason } : {}),
          ...(values['reported-by'] !== undefined ? { reportedBy: values['reported-by'] } : {}),
          ...(values.ticket !== undefined ? { ticket: values.ticket } : {}),
          ...(values['event-bus'] !== undefined ? { eventBus: values['event-bus'] } : {}),
        },
        out,
      );
    default:
      throw new CliError(`unknown command "${command}"\n\n${USAGE}`, ExitCodes.Usage);
  }
}

function parseCount(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 10000) throw new CliError(`--services must be a whole number from 1 to 10000, got "${text}"`, ExitCodes.Usage);
  return Number(text);
}

/** Exit only once stdout is flushed: a large --json document to a pipe is written asynchronously. */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

main(process.argv.slice(2)).then(
  (code) => exitAfterFlush(code),
  (error: unknown) => {
    if (error instanceof CliError) {
      console.error(`certflow: ${error.message}`);
      process.exit(error.exitCode);
    }
    if (error instanceof ConfigError) {
      console.error(`certflow: ${error.message}`);
      process.exit(ExitCodes.Config);
    }
    if (error instanceof CertflowError) {
      console.error(`certflow: ${error.name}: ${error.message}`);
      process.exit(ExitCodes.WorkflowFailed);
    }
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`certflow: ${(error as Error).message}\n\n${USAGE}`);
      process.exit(ExitCodes.Usage);
    }
    console.error('certflow: unexpected error', error);
    process.exit(ExitCodes.Environment);
  },
);
