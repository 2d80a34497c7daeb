import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { Metrics } from '../../functions/contracts/functions';
import { DASHBOARD, type DashboardDefinition, type DimensionValue, type Panel, type PanelMetric, type WorkflowName } from './definition';

export interface CertflowDashboardProps {
  /** Deployment name (config.name): names the dashboard. */
  readonly deploymentName: string;
  /** The Vault cluster id (config.vault.clusterId), the Cluster dimension. */
  readonly clusterId: string;
  /** The configured Vault node ids, one line each where a panel shows every node. */
  readonly nodeIds: readonly string[];
  /** The state machines whose execution metrics the panels show. */
  readonly stateMachines: Readonly<Record<WorkflowName, sfn.IStateMachine>>;
  /** Defaults to certflow's dashboard (lib/dashboards/definition.ts). */
  readonly definition?: DashboardDefinition;
}

/** The CloudWatch dashboard of a deployment, one widget per panel of the shared definition. */
export class CertflowDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: CertflowDashboardProps) {
    super(scope, id);
    const definition = props.definition ?? DASHBOARD;
    const period = Duration.seconds(definition.periodSeconds);
    const bind = (value: DimensionValue): string[] => (value === 'cluster' ? [props.clusterId] : value === 'eachNode' ? [...props.nodeIds] : ['*']);

    const metricsOf = (metric: PanelMetric): cloudwatch.IMetric[] => {
      if (metric.source === 'workflow') {
        return [props.stateMachines[metric.workflow].metric(metric.metricName, { period, statistic: metric.statistic, label: metric.label })];
      }
      // A dimension of `any` value: every series CloudWatch has, found by SEARCH (issuers change with each rotation).
      if (Object.values(metric.dimensions).includes('any')) {
        const schema = [Metrics.ServiceDimension, ...Object.keys(metric.dimensions)].join(',');
        const fixed = Object.entries(metric.dimensions)
          .filter(([, value]) => value !== 'any')
          .map(([name, value]) => ` ${name}="${bind(value)[0]}"`)
          .join('');
        return [new cloudwatch.MathExpression({ expression: `SEARCH('{${Metrics.Namespace},${schema}} MetricName="${metric.metricName}"${fixed}', '${metric.statistic}', ${definition.periodSeconds})`, label: metric.label, period })];
      }
      // One metric per combination of bound dimension values (only Node has several).
      let combinations: Array<Record<string, string>> = [{ [Metrics.ServiceDimension]: Metrics.ServiceName }];
      for (const [name, value] of Object.entries(metric.dimensions)) {
        combinations = combinations.flatMap((partial) => bind(value).map((bound) => ({ ...partial, [name]: bound })));
      }
      return combinations.map(
        (dimensionsMap) =>
          new cloudwatch.Metric({
            namespace: Metrics.Namespace,
            metricName: metric.metricName,
            dimensionsMap,
            period,
            statistic: metric.statistic,
            label: dimensionsMap[Metrics.NodeDimension] ? `${dimensionsMap[Metrics.NodeDimension]} ${metric.label}` : metric.label,
          }),
      );
    };
    const widgetOf = (panel: Panel): cloudwatch.IWidget => {
      const metrics = panel.metrics.flatMap(metricsOf);
      const common = { title: panel.title, width: panel.width, height: panel.height };
      return panel.view === 'number' ? new cloudwatch.SingleValueWidget({ ...common, metrics }) : new cloudwatch.GraphWidget({ ...common, left: metrics });
    };

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `certflow-${props.deploymentName}`,
      defaultInterval: Duration.days(1),
    });
    // One addWidgets per row: CloudWatch places a row's widgets left to right, as placePanels does.
    for (const row of definition.rows) this.dashboard.addWidgets(...row.map(widgetOf));
  }
}
