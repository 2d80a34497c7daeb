import { Metrics } from '../../functions/contracts/functions';
import { DASHBOARD, placePanels, type DashboardDefinition, type DimensionValue, type PanelMetric, type WorkflowName } from './definition';

/**
 * The Grafana dashboard (JSON model, CloudWatch data source) of the shared definition: the same
 * panels at the same grid places as the stack's CloudWatch dashboard. Deployment values are
 * dashboard variables (the data source, the Vault cluster id, each state machine's ARN), so one
 * file serves every deployment. scripts/generate-dashboards.ts writes deploy/grafana/certflow.json.
 */
/** Where the generated Grafana dashboard is committed, relative to the repository root. */
export const GRAFANA_DASHBOARD_PATH = 'deploy/grafana/certflow.json';

const WORKFLOW_VARIABLES: Readonly<Record<WorkflowName, string>> = {
  Unseal: 'unseal_state_machine_arn',
  Rotation: 'rotation_state_machine_arn',
  Compromise: 'compromise_state_machine_arn',
  Expiry: 'expiry_state_machine_arn',
};

const DATASOURCE = { type: 'cloudwatch', uid: '${datasource}' } as const;

function dimensionValue(value: DimensionValue): string {
  return value === 'cluster' ? '$cluster' : '*';
}

function targetOf(metric: PanelMetric, index: number, periodSeconds: number): Record<string, unknown> {
  const common = { datasource: DATASOURCE, refId: String.fromCharCode(65 + index), queryMode: 'Metrics', metricQueryType: 0, metricEditorMode: 0, region: 'default', period: String(periodSeconds), id: '', expression: '', label: metric.label };
  if (metric.source === 'workflow') {
    return { ...common, namespace: 'AWS/States', metricName: metric.metricName, dimensions: { StateMachineArn: `$${WORKFLOW_VARIABLES[metric.workflow]}` }, statistic: metric.statistic, matchExact: true };
  }
  const dimensions: Record<string, string> = { [Metrics.ServiceDimension]: Metrics.ServiceName };
  for (const [name, value] of Object.entries(metric.dimensions)) dimensions[name] = dimensionValue(value);
  const wildcard = Object.values(metric.dimensions).some((value) => value !== 'cluster');
  return { ...common, namespace: Metrics.Namespace, metricName: metric.metricName, dimensions, statistic: metric.statistic, matchExact: !wildcard };
}

export function grafanaDashboard(definition: DashboardDefinition = DASHBOARD): Record<string, unknown> {
  const panels = placePanels(definition).map((panel, index) => ({
    id: index + 1,
    type: panel.view === 'number' ? 'stat' : 'timeseries',
    title: panel.title,
    description: panel.description,
    datasource: DATASOURCE,
    gridPos: { x: panel.x, y: panel.y, w: panel.width, h: panel.height },
    targets: panel.metrics.map((metric, metricIndex) => targetOf(metric, metricIndex, definition.periodSeconds)),
    ...(panel.view === 'number' ? { options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'none' } } : {}),
  }));
  const textbox = (name: string, label: string) => ({ name, label, type: 'textbox', query: '', current: { text: '', value: '' } });
  return {
    title: definition.title,
    uid: 'certflow',
    schemaVersion: 39,
    editable: true,
    time: { from: 'now-24h', to: 'now' },
    refresh: '5m',
    tags: ['certflow'],
    templating: {
      list: [
        { name: 'datasource', label: 'CloudWatch', type: 'datasource', query: 'cloudwatch', current: {} },
        textbox('cluster', 'Vault cluster id (config vault.clusterId)'),
        ...Object.entries(WORKFLOW_VARIABLES).map(([workflow, variable]) => textbox(variable, `${workflow} state machine ARN (stack output)`)),
      ],
    },
    panels,
  };
}

/** The file's text: stable key order and a final newline, so the committed copy compares byte for byte. */
export function grafanaDashboardText(definition: DashboardDefinition = DASHBOARD): string {
  return `${JSON.stringify(grafanaDashboard(definition), null, 2)}\n`;
}
