import { createInterface } from 'node:readline/promises';
import { CliError, ExitCodes } from './cli-error';

/**
 * Asks before a command that changes the PKI (a compromise report, a forced new intermediate), but
 * only when a person is at a terminal: scripts and CI (no TTY) and `--yes` go ahead. Anything but
 * "y" or "yes" stops the command with exit 5 and nothing sent.
 */
export async function confirm(question: string, options: { yes: boolean; input?: NodeJS.ReadStream; output?: NodeJS.WriteStream }): Promise<void> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  if (options.yes || !input.isTTY || !output.isTTY) return;
  const prompt = createInterface({ input, output });
  try {
    const answer = (await prompt.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new CliError('not confirmed: nothing was sent (pass --yes to skip this question)', ExitCodes.Refused);
  } finally {
    prompt.close();
  }
}
