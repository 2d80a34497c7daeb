import { Metrics } from '../../functions/contracts/functions';

/**
 * The one definition of certflow's operations dashboard. The CloudWatch dashboard of the stack
 * (cloudwatch-dashboard.ts), the Grafana dashboard in dashboards/ (grafana.ts) and the picture in
 * docs/ (svg.ts) are all generated from it, so they cannot drift apart.
 *
 * Only metrics that exist are shown: certflow's own gauges (the `Metrics` contract, which the
 * functions emit; test/unit/dashboard-definition.test.ts checks each against the code that emits
 * it) and the execution metrics Step Functions publishes for the three state machines.
 */

/**
 * A dimension's value, bound per deployment: the configured Vault cluster id, or every node of
 * it, or `any`: every value the metric has (issuers change with each rotation, so they cannot be
 * listed at deploy time; CloudWatch reads them with SEARCH, Grafana with a `*` dimension).
 */
export type DimensionValue = 'cluster' | 'eachNode' | 'any';

/** A gauge certflow's functions emit (EMF, namespace `Metrics.Namespace`). */
export interface CertflowMetric {
  readonly source: 'certflow';
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, DimensionValue>>;
  readonly statistic: 'Maximum' | 'Minimum' | 'Sum';
  readonly label: string;
}

export type WorkflowName = 'Unseal' | 'Rotation' | 'Compromise' | 'Expiry';
export type ExecutionMetricName = 'ExecutionsStarted' | 'ExecutionsSucceeded' | 'ExecutionsFailed' | 'ExecutionsTimedOut' | 'ExecutionsAborted';

/** An execution metric Step Functions publishes (namespace AWS/States, dimension StateMachineArn). */
export interface WorkflowMetric {
  readonly source: 'workflow';
  readonly workflow: WorkflowName;
  readonly metricName: ExecutionMetricName;
  readonly statistic: 'Sum';
  readonly label: string;
}

export type PanelMetric = CertflowMetric | WorkflowMetric;

export interface Panel {
  readonly title: string;
  /** What the panel tells an operator (the README's table and the widgets' descriptions). */
  readonly description: string;
  /** A time series, or the latest value as one number. */
  readonly view: 'graph' | 'number';
  /** Columns of the 24-column grid that CloudWatch and Grafana share. */
  readonly width: number;
  /** Rows of the grid. */
  readonly height: number;
  readonly metrics: readonly PanelMetric[];
}

export interface DashboardDefinition {
  readonly title: string;
  /** Aggregation period of every metric, in seconds. */
  readonly periodSeconds: number;
  /** Panels row by row, left to right; each row's widths add up to at most 24. */
  readonly rows: readonly (readonly Panel[])[];
}

/** The width of the grid (CloudWatch's and Grafana's). */
export const GRID_COLUMNS = 24;

const SEALED_NODES: CertflowMetric = {
  source: 'certflow',
  metricName: Metrics.VaultSealedNodes,
  dimensions: { [Metrics.ClusterDimension]: 'cluster' },
  statistic: 'Maximum',
  label: 'sealed nodes',
};

const executions = (workflow: WorkflowName, names: readonly ExecutionMetricName[]): WorkflowMetric[] =>
  names.map((metricName) => ({ source: 'workflow', workflow, metricName, statistic: 'Sum', label: metricName.replace(/^Executions/, '').toLowerCase() }));

const ALL_OUTCOMES: readonly ExecutionMetricName[] = ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'];

export const DASHBOARD: DashboardDefinition = {
  title: 'certflow',
  periodSeconds: 300,
  rows: [
    [
      {
        title: 'Sealed Vault nodes',
        description: 'How many nodes of the cluster the last unseal run left sealed (an unreachable node counts as sealed); the VaultSealed alarm watches this number.',
        view: 'number',
        width: 6,
        height: 6,
        metrics: [SEALED_NODES],
      },
      {
        title: 'Seal state per node',
        description: '1 while a node is sealed after an unseal run, 0 once it is unsealed; one line per configured node.',
        view: 'graph',
        width: 18,
        height: 6,
        metrics: [
          {
            source: 'certflow',
            metricName: Metrics.VaultSealed,
            dimensions: { [Metrics.ClusterDimension]: 'cluster', [Metrics.NodeDimension]: 'eachNode' },
            statistic: 'Maximum',
            label: 'sealed',
          },
        ],
      },
    ],
    [
      {
        title: 'Rotation runs and outcomes',
        description: 'Rotation executions (renewal sweeps and intermediate rotations) started, succeeded, failed (rolled back, rollback failed or aborted), timed out and stopped.',
        view: 'graph',
        width: 12,
        height: 6,
        metrics: executions('Rotation', ALL_OUTCOMES),
      },
      {
        title: 'Unseal runs and outcomes',
        description: 'Unseal executions (scheduled and on demand) started, succeeded, failed, timed out and stopped.',
        view: 'graph',
        width: 12,
        height: 6,
        metrics: executions('Unseal', ALL_OUTCOMES),
      },
    ],
    [
      {
        title: 'Renewals and failures',
        description: 'Targets renewed (or asked of cert-manager) and targets whose renewal failed, by RenewBatch in Rotation runs and compromise reissues; a failed renewal fails its batch and rolls the run back.',
        view: 'graph',
        width: 9,
        height: 6,
        metrics: [
          { source: 'certflow', metricName: Metrics.RenewalsSucceeded, dimensions: { [Metrics.ClusterDimension]: 'cluster' }, statistic: 'Sum', label: 'renewed' },
          { source: 'certflow', metricName: Metrics.RenewalsFailed, dimensions: { [Metrics.ClusterDimension]: 'cluster' }, statistic: 'Sum', label: 'failed' },
        ],
      },
      {
        title: 'Verification verdicts',
        description: 'Verdicts of VerifyBatch (rotations, their rollbacks and compromise reissues), one line per verdict: Valid, or the reason a target was refused (Revoked, NameMismatch, StaleServedCertificate, ...; an unknown reason counts as Other).',
        view: 'graph',
        width: 9,
        height: 6,
        metrics: [{ source: 'certflow', metricName: Metrics.VerificationVerdicts, dimensions: { [Metrics.ClusterDimension]: 'cluster', [Metrics.VerdictDimension]: 'any' }, statistic: 'Sum', label: 'verdicts' }],
      },
      {
        title: 'Refused verdicts',
        description: 'Targets VerifyBatch refused in the period (every verdict but Valid): during a rotation each one fails its batch and rolls the run back.',
        view: 'number',
        width: 6,
        height: 6,
        metrics: [{ source: 'certflow', metricName: Metrics.VerificationsRefused, dimensions: { [Metrics.ClusterDimension]: 'cluster' }, statistic: 'Sum', label: 'refused' }],
      },
    ],
    [
      {
        title: 'Soonest leaf: days to expiry',
        description: 'The fewest days left of any service certificate, stored in its Secret or served by its endpoint, at the last expiry sweep; the LeafExpiring alarm fires at alarms.expiryDays (7) or fewer.',
        view: 'number',
        width: 6,
        height: 6,
        metrics: [{ source: 'certflow', metricName: Metrics.SoonestLeafDaysToExpiry, dimensions: { [Metrics.ClusterDimension]: 'cluster' }, statistic: 'Minimum', label: 'days' }],
      },
      {
        title: 'Issuers: days to expiry',
        description: 'Days left of every issuer (root, intermediates, mesh CA) at each expiry sweep, one line per issuer; the Root/Intermediate/MeshCaExpiring alarms watch those that still sign.',
        view: 'graph',
        width: 12,
        height: 6,
        metrics: [{ source: 'certflow', metricName: Metrics.IssuerDaysToExpiry, dimensions: { [Metrics.ClusterDimension]: 'cluster', [Metrics.IssuerRoleDimension]: 'any', [Metrics.IssuerDimension]: 'any' }, statistic: 'Minimum', label: 'days' }],
      },
      {
        title: 'Unhealthy targets',
        description: 'Targets whose Secret is missing or unreadable, whose endpoint is unreachable, or that serve another certificate than they store, at the last sweep (TargetsUnhealthy alarm).',
        view: 'number',
        width: 6,
        height: 6,
        metrics: [{ source: 'certflow', metricName: Metrics.UnhealthyTargets, dimensions: { [Metrics.ClusterDimension]: 'cluster' }, statistic: 'Maximum', label: 'targets' }],
      },
    ],
    [
      {
        title: 'Compromise responses',
        description: 'CompromiseResponse executions: reports admitted and started, contained (succeeded), failed, timed out and stopped.',
        view: 'graph',
        width: 18,
        height: 6,
        metrics: executions('Compromise', ALL_OUTCOMES),
      },
      {
        title: 'Failed compromise responses',
        description: 'Failed CompromiseResponse executions in the period: anything above 0 is an uncontained compromise (see the CompromiseResponseFailed alarm).',
        view: 'number',
        width: 6,
        height: 6,
        metrics: executions('Compromise', ['ExecutionsFailed']),
      },
    ],
    [
      {
        title: 'Expiry sweep runs',
        description: 'ExpirySweep executions (daily and certflow expiry): a failed one means the expiry gauges are stale (ExpirySweepFailed alarm).',
        view: 'graph',
        width: 24,
        height: 6,
        metrics: executions('Expiry', ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed']),
      },
    ],
  ],
};

/** A panel with its place in the grid. */
export interface PlacedPanel extends Panel {
  readonly x: number;
  readonly y: number;
}

/** Every panel at its grid position: rows stack downwards, panels go left to right (as CloudWatch lays out a row). */
export function placePanels(definition: DashboardDefinition): PlacedPanel[] {
  const placed: PlacedPanel[] = [];
  let y = 0;
  for (const row of definition.rows) {
    let x = 0;
    for (const panel of row) {
      if (x + panel.width > GRID_COLUMNS) throw new Error(`dashboard row at y=${y} is wider than ${GRID_COLUMNS} columns`);
      placed.push({ ...panel, x, y });
      x += panel.width;
    }
    y += Math.max(0, ...row.map((panel) => panel.height));
  }
  return placed;
}

/** The metrics of every panel, each once (by source, name and dimensions or workflow). */
export function metricsOf(definition: DashboardDefinition): PanelMetric[] {
  const seen = new Map<string, PanelMetric>();
  for (const metric of definition.rows.flat().flatMap((panel) => panel.metrics)) {
    const key = metric.source === 'certflow' ? `certflow/${metric.metricName}/${Object.keys(metric.dimensions).sort().join(',')}` : `workflow/${metric.workflow}/${metric.metricName}`;
    seen.set(key, metric);
  }
  return [...seen.values()];
}
