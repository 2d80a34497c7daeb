/** The workflows the CLI can list and follow (kept apart from workflows.ts so `--help` loads no SDK). */
export const WORKFLOW_NAMES = ['unseal', 'rotation', 'compromise', 'expiry'] as const;
export type WorkflowName = (typeof WORKFLOW_NAMES)[number];
