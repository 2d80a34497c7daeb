import type { SFNClient } from '@aws-sdk/client-sfn';
import { createOutput, fitTable, TEXT_COLUMNS, wrapText } from '../../bin/cli/output';
import { printRun, readRunStatus } from '../../bin/cli/commands/status';

/** certflow's text output fits 100 columns (`-o wide` lifts it) without breaking what is pasted. */
describe('the CLI\'s text width', () => {
  it('wraps prose at word boundaries within 100 columns, continuing indented', () => {
    const text = `Intermediate rotation: not due (NotDue): ${'the intermediate is due for rotation later '.repeat(4)}`.trim();

    const lines = wrapText(text, TEXT_COLUMNS).split('\n');

    expect(lines.length).toBeGreaterThan(1);
    expect(lines.every((line) => line.length <= TEXT_COLUMNS)).toBe(true);
    expect(lines.slice(1).every((line) => line.startsWith('    ') && !line.startsWith('     '))).toBe(true);
    expect(lines.map((line) => line.trim()).join(' ')).toBe(text);
  });

  it('keeps a word longer than a line (an ARN) and an export line whole', () => {
    const arn = `arn:aws:states:us-east-1:000000000000:execution:RotationWorkflowStateMachine05CF0C62:${'5e20f93e-'.repeat(6)}`;
    const exported = `  export KUBECONFIG=/a/very/long/path/${'x'.repeat(60)}/kubeconfig     # kubectl get certificate -n econ-graph`;

    expect(wrapText(`started ${arn}`, TEXT_COLUMNS).split('\n')).toEqual(['started', `    ${arn}`]);
    expect(wrapText(exported, TEXT_COLUMNS)).toBe(exported);
  });

  it('cuts the widest cell of a table to fit, marked with …, but never a column kept whole (a serial)', () => {
    const serial = Array.from({ length: 20 }, (_, index) => index.toString(16).padStart(2, '0')).join(':');
    const rows = [
      ['service', 'detail', 'serial'],
      ['backend', 'the DNS names differ from the desired ones: added api.example, removed old.example', `new ${serial}`],
    ];

    const fitted = fitTable(rows, TEXT_COLUMNS, [2]);

    expect(fitted[1]![2]).toBe(`new ${serial}`);
    expect(fitted[1]![1]).toMatch(/^the DNS names differ.*…$/);
    const width = 2 + [0, 1, 2].map((column) => Math.max(...fitted.map((row) => row[column]!.length))).reduce((a, b) => a + b) + 4;
    expect(width).toBeLessThanOrEqual(TEXT_COLUMNS);
  });

  it('says how many more services a run has when its report lists only some of them', async () => {
    const serial = Array.from({ length: 20 }, (_, index) => index.toString(16).padStart(2, '0')).join(':');
    const services = [{ service: 'backend', oldSerial: serial, newSerial: serial, verdict: 'Expired' }];
    const output = JSON.stringify({ summary: { detail: { outcome: 'Succeeded', services, servicesTotal: 100_000 } } });
    // DescribeExecution answers the run, GetExecutionHistory an empty history.
    const sfn = { send: async (command: { constructor: { name: string } }) => (command.constructor.name === 'DescribeExecutionCommand' ? { executionArn: 'arn:run', name: 'run', status: 'SUCCEEDED', output } : { events: [] }) } as unknown as SFNClient;
    const written: string[] = [];
    const stream = { isTTY: false, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;

    const run = await readRunStatus(sfn, 'arn:run');
    printRun(run, createOutput({ format: 'table', stream, color: false }), 'Rotation', { document: false });

    expect(run.servicesTotal).toBe(100_000);
    expect(written.join('')).toContain(`new ${serial}`);
    // Read as prose: the line may wrap at 100 columns.
    expect(written.join('').replace(/\s+/g, ' ')).toContain("... and 99999 more services, each in the run's batch records in the ledger");
  });
});
