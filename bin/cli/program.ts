import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CliError, ExitCodes, EXIT_CODES_HELP } from './cli-error';
import { createOutput, OUTPUT_FORMATS, type Output, type OutputFormat } from './output';
import { completionScript, COMPLETION_SHELLS, type CompletionShell } from './completion';
import { CLI_VERSION } from './version';
import { WORKFLOW_NAMES, type WorkflowName } from './workflow-names';

/**
 * The `certflow` command tree, on commander. Each command declares only its own flags (an unknown
 * one exits 2 with a suggestion); the options every command shares (--config, -o, colour,
 * verbosity) are declared once on the program. Command modules are imported when their command
 * runs, so `certflow --help` loads neither the CDK nor the AWS SDK.
 */

/** The options shared by every command. */
interface GlobalOptions {
  config: string;
  profile?: string;
  region?: string;
  stack?: string;
  output?: OutputFormat;
  json?: boolean;
  color: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export const DEFAULT_CONFIG = 'config/econgraph.json';

/** What an action returns: the process's exit code. */
type Action = (out: Output, global: GlobalOptions & { configPath: string }) => Promise<number>;

export function buildProgram(onExitCode: (code: number) => void, paintError: (text: string) => string = (text) => text): Command {
  const program = new Command('certflow')
    // Before any subcommand is added: commander copies these settings into each one.
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(paintError(text)) })
    .description('Keeps an internal mTLS PKI alive: Vault unsealed, the intermediate CA rotated, service certificates renewed, verified and rolled back.')
    .version(CLI_VERSION, '-V, --version', 'print the version')
    .option('-c, --config <file>', 'deployment config', DEFAULT_CONFIG)
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS))
    .option('--json', 'same as -o json')
    .option('--no-color', 'no colour (also NO_COLOR=1); colour is on only on a terminal')
    .addOption(new Option('-q, --quiet', 'no progress lines').conflicts('verbose'))
    .option('-v, --verbose', 'show what is normally hidden (synthesis output)')
    .option('--profile <name>', 'AWS: the named profile (as AWS_PROFILE)')
    .option('--region <region>', 'AWS: the region (as AWS_REGION; taken from an ARN when neither is set)')
    .option('--stack <name>', 'AWS: read ARNs and names from this deployed stack\'s outputs (certflow-<config name>)')
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run `certflow help <command>` for its flags)')
    .helpCommand('help [command]', 'help for a command')
    .addHelpText('after', `\nExamples:\n  $ certflow simulate\n  $ certflow sandbox\n  $ certflow rotate --local --wait\n  $ certflow help compromise\n\n${EXIT_CODES_HELP}`);

  const command = (name: string, summary: string, examples: string[]) =>
    program
      .command(name)
      .description(summary)
      .addHelpText('after', `\nExamples:\n${examples.map((example) => `  $ ${example}`).join('\n')}\n\n${EXIT_CODES_HELP}`);

  const act = (cmd: Command, action: Action, needsConfig = true) => async () => {
    const global = cmd.optsWithGlobals() as GlobalOptions;
    const format: OutputFormat = global.json ? 'json' : (global.output ?? 'table');
    if (global.json && global.output && global.output !== 'json') throw new CliError(`--json and -o ${global.output} disagree: give one`, ExitCodes.Usage);
    const out = createOutput({ format, quiet: global.quiet ?? false, verbose: global.verbose ?? false, ...(global.color === false ? { color: false } : {}) });
    const configPath = resolve(global.config);
    // Every command reads the deployment config first: an invalid one stops it (exit 3, naming
    // the field) before it touches a sandbox, AWS or the CDK.
    if (needsConfig) {
      const { loadConfig } = await import('../../lib/config');
      loadConfig(configPath);
    }
    // The SDK's own conventions: a profile and a region are environment settings for every client.
    if (global.profile) process.env.AWS_PROFILE = global.profile;
    if (global.region) process.env.AWS_REGION = global.region;
    if (global.stack && !(cmd.opts<{ local?: boolean }>().local ?? false)) {
      const { loadStackOutputs } = await import('./stack-outputs');
      await loadStackOutputs(global.stack);
    }
    onExitCode(await action(out, { ...global, configPath }));
  };

  const simulate = command('simulate', 'a full rotation on the embedded sandbox, with a report (what npm start runs)', [
    'certflow simulate',
    'certflow simulate --services 100 -o json',
    'certflow simulate --fault vault:issue:after=2',
  ])
    .option('--services <n>', 'a synthetic fleet of n services (the seed\'s five plus tls-secret ones)', parseCount)
    .option('--fault <spec>', 'inject a fault, e.g. vault:issue:after=3 (README, Faults)');
  simulate.action(
    act(simulate, async (out, global) => {
      const opts = simulate.opts<{ services?: number; fault?: string }>();
      const { simulate: run } = await import('./commands/simulate');
      return run({ configPath: global.configPath, ...(opts.services ? { services: opts.services } : {}), ...(opts.fault ? { fault: opts.fault } : {}) }, out);
    }),
  );

  const sandbox = command('sandbox', 'start the embedded sandbox (Vault ready with PKI) and keep it running until Ctrl-C', [
    'certflow sandbox',
    'certflow sandbox --uninitialized',
  ])
    .option('--uninitialized', 'leave Vault uninitialized (to walk through vault-init yourself)')
    .option('--state-dir <dir>', 'where its state and kubeconfig go, for a second sandbox (other commands: CERTFLOW_STATE_DIR)');
  sandbox.action(
    act(sandbox, async (out, global) => {
      const stateDirOption = sandbox.opts<{ stateDir?: string }>().stateDir;
      if (stateDirOption) process.env.CERTFLOW_STATE_DIR = resolve(stateDirOption);
      const { runSandbox } = await import('./commands/sandbox');
      return runSandbox({ configPath: global.configPath, uninitialized: sandbox.opts<{ uninitialized?: boolean }>().uninitialized ?? false }, out);
    }),
  );

  const plan = command('plan', 'dry run of the Plan step: the issuers, every target\'s decision and reason, refused candidates', ['certflow plan --local', 'certflow plan --local --intermediate -o wide', 'certflow plan --local --service backend -o yaml', 'certflow plan --stack certflow-econgraph'])
    .option('--local', 'run it on the running sandbox (without it, --stack <name> runs it in the deployed PlanRotation function)')
    .option('--intermediate', 'as if an intermediate rotation were requested')
    .option('--service <name>', 'only this service, as rotate --service (repeatable)', collect);
  plan.action(
    act(plan, async (out, global) => {
      const opts = plan.opts<{ local?: boolean; intermediate?: boolean; service?: string[] }>();
      const { plan: run } = await import('./commands/plan');
      return run({ configPath: global.configPath, local: opts.local ?? false, intermediate: opts.intermediate ?? false, ...(opts.service?.length ? { services: opts.service } : {}) }, out);
    }),
  );

  const vaultInit = command('vault-init', 'initialize one Vault node and store its shares KMS-wrapped (never printed)', [
    'certflow vault-init --local',
    'certflow vault-init --node vault-0 --share-table <ShareTableName> --unseal-key-arn <UnsealKeyArn>',
  ])
    .option('--local', 'act on the running sandbox instead of AWS')
    .option('--node <id>', 'the node to initialize (default: the first configured)')
    .option('--share-table <name>', 'against AWS: the ShareTableName stack output')
    .option('--unseal-key-arn <arn>', 'against AWS: the UnsealKeyArn stack output (a key ARN, never an alias)')
    .option('--out-dir <dir>', 'where the KMS-wrapped root token is written', '.certflow');
  vaultInit.action(
    act(vaultInit, async (out, global) => {
      const opts = vaultInit.opts<{ local?: boolean; node?: string; shareTable?: string; unsealKeyArn?: string; outDir: string }>();
      const { vaultInit: run } = await import('./commands/vault-init');
      return run(
        { configPath: global.configPath, local: opts.local ?? false, outDir: resolve(opts.outDir), ...(opts.node ? { nodeId: opts.node } : {}), ...(opts.shareTable ? { shareTable: opts.shareTable } : {}), ...(opts.unsealKeyArn ? { unsealKeyArn: opts.unsealKeyArn } : {}) },
        out,
      );
    }),
  );

  const pkiSetup = command('pki-setup', 'the one-time PKI set-up after vault-init and unseal: root and intermediate CAs, role, policy, auth role', [
    'certflow pki-setup --local',
    'certflow pki-setup --local --root-token-file .certflow/econgraph-vault-root-token.kms',
  ])
    .option('--local', 'on the running sandbox (the only target: against a real Vault, see README "The shipped Vault policy")')
    .option('--root-token-file <file>', 'the KMS-wrapped root token vault-init wrote (default: .certflow/<vault.clusterId>-root-token.kms)');
  pkiSetup.action(
    act(pkiSetup, async (out, global) => {
      const opts = pkiSetup.opts<{ local?: boolean; rootTokenFile?: string }>();
      const { loadConfig } = await import('../../lib/config');
      const rootTokenFile = resolve(opts.rootTokenFile ?? `.certflow/${loadConfig(global.configPath).vault.clusterId}-root-token.kms`);
      const { pkiSetup: run } = await import('./commands/pki-setup');
      return run({ configPath: global.configPath, local: opts.local ?? false, rootTokenFile }, out);
      }),
    );

  const expirySweep = command('expiry', 'run the expiry sweep now (changes nothing; exit 1 when an alarm threshold is met)', ['certflow expiry --local', 'certflow expiry --state-machine-arn <ExpiryStateMachineArn> --wait'])
    .option('--local', 'run it on the running sandbox instead of AWS')
    .option('--state-machine-arn <arn>', 'against AWS: the ExpiryStateMachineArn stack output')
    .option('--wait', 'against AWS: wait for the execution to finish');
  expirySweep.action(
    act(expirySweep, async (out, global) => {
      const opts = expirySweep.opts<{ local?: boolean; stateMachineArn?: string; wait?: boolean }>();
      const { expiry: run } = await import('./commands/expiry');
      return run({ configPath: global.configPath, local: opts.local ?? false, wait: opts.wait ?? false, ...(opts.stateMachineArn ? { stateMachineArn: opts.stateMachineArn } : {}) }, out);
    }),
  );

  const unseal = command('unseal', 'run the Unseal workflow now', ['certflow unseal --local', 'certflow unseal --state-machine-arn <UnsealStateMachineArn> --wait'])
    .option('--local', 'run it on the running sandbox instead of AWS')
    .option('--node <id>', 'only this node (repeatable)', collect)
    .option('--state-machine-arn <arn>', 'against AWS: the UnsealStateMachineArn stack output')
    .option('--wait', 'against AWS: wait for the execution to finish');
  unseal.action(
    act(unseal, async (out, global) => {
      const opts = unseal.opts<{ local?: boolean; node?: string[]; stateMachineArn?: string; wait?: boolean }>();
      const { unseal: run } = await import('./commands/unseal');
      return run(
        { configPath: global.configPath, local: opts.local ?? false, wait: opts.wait ?? false, ...(opts.node?.length ? { nodeIds: opts.node } : {}), ...(opts.stateMachineArn ? { stateMachineArn: opts.stateMachineArn } : {}) },
        out,
      );
    }),
  );

  // The kill switch (issue 13 item 5): one command each way, the same options.
  for (const [name, pause] of [['pause', true], ['resume', false]] as const) {
    const killSwitch = command(
      `${name} <workflow>`,
      pause ? 'hold a workflow: unseal (sealed nodes stay sealed), rotation or all' : 'release a workflow held by certflow pause',
      [`certflow ${name} unseal --local`, `certflow ${name} all --ledger-table <LedgerTableName>`],
    )
      .option('--local', 'on the running sandbox instead of AWS')
      .option('--ledger-table <name>', 'against AWS: the LedgerTableName stack output');
    if (pause) killSwitch.option('--reason <text>', 'why, kept with the pause (no secrets)');
    killSwitch.action(
      act(killSwitch, async (out, global) => {
        const opts = killSwitch.opts<{ local?: boolean; ledgerTable?: string; reason?: string }>();
        const { setPause } = await import('./commands/pause');
        return setPause(
          { configPath: global.configPath, local: opts.local ?? false, pause, target: killSwitch.args[0]!, ...(opts.ledgerTable ? { ledgerTable: opts.ledgerTable } : {}), ...(opts.reason ? { reason: opts.reason } : {}) },
          out,
        );
      }),
    );
  }

  const rotate = command('rotate', 'start a Rotation run now', ['certflow rotate --local --wait', 'certflow rotate --local --intermediate --service backend'])
    .option('--local', 'on the running sandbox instead of AWS')
    .option('--intermediate', 'force a new intermediate even when none is due')
    .option('--service <name>', 'only this service (repeatable)', collect)
    .option('--wait', 'follow the run and exit 1 unless it succeeded')
    .option('-y, --yes', 'do not ask before forcing a new intermediate (asked only on a terminal)')
    .option('--state-machine-arn <arn>', 'against AWS: the RotationStateMachineArn stack output');
  rotate.action(
    act(rotate, async (out, global) => {
      const opts = rotate.opts<{ local?: boolean; intermediate?: boolean; service?: string[]; wait?: boolean; yes?: boolean; stateMachineArn?: string }>();
      const { rotate: run } = await import('./commands/rotate');
      return run(
        {
          configPath: global.configPath,
          local: opts.local ?? false,
          intermediate: opts.intermediate ?? false,
          wait: opts.wait ?? false,
          yes: opts.yes ?? false,
          ...(opts.service?.length ? { services: opts.service } : {}),
          ...(opts.stateMachineArn ? { stateMachineArn: opts.stateMachineArn } : {}),
        },
        out,
      );
    }),
  );

  const runs = command('runs', 'the latest runs of the Unseal, Rotation and Compromise workflows, newest first', ['certflow runs --local', 'certflow runs --local --workflow compromise --limit 5'])
    .option('--local', 'on the running sandbox instead of AWS')
    .addOption(new Option('--workflow <name>', 'only this workflow').choices(WORKFLOW_NAMES))
    .option('--limit <n>', 'how many runs at most', parseLimit, 20)
    .option('--state-machine-arn <arn>', 'against AWS, with --workflow: its state machine (else the CERTFLOW_*_STATE_MACHINE_ARN variables)');
  runs.action(
    act(runs, async (out, global) => {
      const opts = runs.opts<{ local?: boolean; workflow?: WorkflowName; limit: number; stateMachineArn?: string }>();
      const { runs: run } = await import('./commands/runs');
      return run({ configPath: global.configPath, local: opts.local ?? false, limit: opts.limit, ...(opts.workflow ? { workflow: opts.workflow } : {}), ...(opts.stateMachineArn ? { stateMachineArn: opts.stateMachineArn } : {}) }, out);
    }),
  );

  const status = command('status', 'a run\'s states, serials and verdicts (the latest Rotation run by default)', [
    'certflow status --local',
    'certflow status --local --watch',
    'certflow status --local --workflow unseal',
    'certflow status <execution-arn>',
  ])
    .argument('[run]', 'an execution ARN, or a run name of --workflow')
    .option('--local', 'on the running sandbox instead of AWS')
    .addOption(new Option('--workflow <name>', 'which workflow a run name (or the latest run) belongs to').choices(WORKFLOW_NAMES).default('rotation'))
    .option('--watch', 'follow the run until it ends')
    .option('--state-machine-arn <arn>', 'against AWS: the RotationStateMachineArn stack output');
  status.action(
    act(status, async (out, global) => {
      const opts = status.opts<{ local?: boolean; watch?: boolean; stateMachineArn?: string; workflow: WorkflowName }>();
      const [execution] = status.processedArgs as [string | undefined];
      const { status: run } = await import('./commands/status');
      return run(
        {
          configPath: global.configPath,
          local: opts.local ?? false,
          watch: opts.watch ?? false,
          workflow: opts.workflow,
          ...(execution ? { execution } : {}),
          ...(opts.stateMachineArn ? { stateMachineArn: opts.stateMachineArn } : {}),
        },
        out,
      );
    }),
  );

  const compromise = command('compromise', 'report a key compromise (the Compromise Reported event on the certflow bus)', [
    'certflow compromise --local --service backend --reason keyCompromise',
    'certflow compromise --serial 3a:5f:... --reason keyCompromise --ticket INC-42 --event-bus <EventBusName>',
    'certflow compromise --local --intermediate <issuer-id> --reason cACompromise',
  ])
    .option('--local', 'on the running sandbox instead of AWS')
    .option('--service <name>', 'a compromised service (repeatable)', collect)
    .option('--serial <serial>', 'a compromised certificate serial (repeatable)', collect)
    .option('--intermediate <issuer-id>', 'the compromised intermediate issuer')
    .option('--reason <code>', 'the RFC 5280 reason (keyCompromise, cACompromise, superseded, ...)')
    .option('--reported-by <who>', 'who reports it (default cli:<user>)')
    .option('--ticket <id>', 'the incident ticket')
    .option('--event-bus <name>', 'against AWS: the EventBusName stack output (or CERTFLOW_EVENT_BUS)')
    .option('--wait', 'follow the response the report starts until it ends; exit 1 unless it succeeded')
    .option('-y, --yes', 'do not ask for confirmation (asked only on a terminal)');
  compromise.action(
    act(compromise, async (out, global) => {
      const opts = compromise.opts<{ local?: boolean; service?: string[]; serial?: string[]; intermediate?: string; reason?: string; reportedBy?: string; ticket?: string; eventBus?: string; wait?: boolean; yes?: boolean }>();
      const { compromise: run } = await import('./commands/compromise');
      return run(
        {
          configPath: global.configPath,
          local: opts.local ?? false,
          wait: opts.wait ?? false,
          yes: opts.yes ?? false,
          ...(opts.service?.length ? { services: opts.service } : {}),
          ...(opts.serial?.length ? { serials: opts.serial } : {}),
          ...(opts.intermediate !== undefined ? { intermediate: opts.intermediate } : {}),
          ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
          ...(opts.reportedBy !== undefined ? { reportedBy: opts.reportedBy } : {}),
          ...(opts.ticket !== undefined ? { ticket: opts.ticket } : {}),
          ...(opts.eventBus !== undefined ? { eventBus: opts.eventBus } : {}),
        },
        out,
      );
    }),
  );

  for (const decision of ['approve', 'deny'] as const) {
    const decide = command(
      decision,
      decision === 'approve'
        ? 'approve a CompromiseResponse run that waits for dual control (an intermediate report)'
        : 'deny a CompromiseResponse run that waits for dual control: it ends Rejected, nothing changed',
      [`certflow ${decision} --local <run>`, `certflow ${decision} <execution-arn> --yes`],
    )
      .argument('<run>', 'the CompromiseResponse execution ARN, or its run name')
      .option('--local', 'on the running sandbox instead of AWS')
      .option('--state-machine-arn <arn>', 'against AWS, with a run name: the CompromiseStateMachineArn stack output')
      .option('--by <who>', 'who decides (default cli:<user>), kept in the run\'s history')
      .option('-y, --yes', 'do not ask for confirmation (asked only on a terminal)');
    decide.action(
      act(decide, async (out, global) => {
        const opts = decide.opts<{ local?: boolean; stateMachineArn?: string; by?: string; yes?: boolean }>();
        const [execution] = decide.processedArgs as [string];
        const commands = await import('./commands/approve');
        return commands[decision](
          {
            configPath: global.configPath,
            local: opts.local ?? false,
            execution,
            yes: opts.yes ?? false,
            ...(opts.stateMachineArn ? { stateMachineArn: opts.stateMachineArn } : {}),
            ...(opts.by ? { decidedBy: opts.by } : {}),
          },
          out,
        );
      }),
    );
  }

  const version = command('version', 'print the version of certflow and of the Node it runs on', ['certflow version', 'certflow version -o json']);
  version.action(
    act(version, async (out) => {
      const document = { certflow: CLI_VERSION, node: process.versions.node };
      out.result(document);
      out.line(`certflow ${CLI_VERSION} (Node ${process.versions.node})`);
      return ExitCodes.Ok;
    }, false),
  );

  const completion = command('completion', 'print a shell completion script', ['source <(certflow completion bash)', 'certflow completion zsh > "${fpath[1]}/_certflow"'])
    .argument('[shell]', `one of ${COMPLETION_SHELLS.join(', ')}`, parseShell, 'bash');
  completion.action(
    act(completion, async () => {
      const [shell] = completion.processedArgs as [CompletionShell];
      process.stdout.write(completionScript(program, shell));
      return ExitCodes.Ok;
    }, false),
  );

  return program;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseCount(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 10000) throw new InvalidArgumentError('a whole number from 1 to 10000');
  return Number(text);
}

function parseLimit(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1000) throw new InvalidArgumentError('a whole number from 1 to 1000');
  return Number(text);
}

function parseShell(text: string): CompletionShell {
  if (!(COMPLETION_SHELLS as readonly string[]).includes(text)) throw new InvalidArgumentError(`one of ${COMPLETION_SHELLS.join(', ')}`);
  return text as CompletionShell;
}
