import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../lib/repo-root';
import { DASHBOARD, metricsOf, placePanels } from '../../lib/dashboards/definition';
import { GRAFANA_DASHBOARD_PATH, grafanaDashboard, grafanaDashboardText } from '../../lib/dashboards/grafana';
import { Metrics } from '../../functions/contracts/functions';
import { DASHBOARD_SVG_PATH, dashboardSvg } from '../../lib/dashboards/svg';
import { loadTemplate } from '../support/template';

/** The stack's dashboard body as CloudWatch gets it, each CloudFormation reference (region, ARNs) as a placeholder. */
function stackDashboardBody(): { widgets: Array<{ x: number; y: number; width: number; properties: { title: string; metrics: unknown[][] } }> } {
  const dashboards = Object.values(loadTemplate().Resources as unknown as Record<string, { Type: string; Properties: { DashboardBody: { 'Fn::Join': [string, unknown[]] } } }>).filter((resource) => resource.Type === 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  const parts = dashboards[0]!.Properties.DashboardBody['Fn::Join'][1];
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'REF')).join(''));
}

/** The dashboards are generated from one definition; these checks keep the copies and the metrics honest. */
describe('the dashboards', () => {
  it('commits the Grafana dashboard exactly as the definition generates it (npm run dashboards)', () => {
    expect(readFileSync(join(repoRoot(), GRAFANA_DASHBOARD_PATH), 'utf8')).toBe(grafanaDashboardText());
  });

  it('commits the README picture exactly as the definition draws it, one panel per definition panel', () => {
    const svg = readFileSync(join(repoRoot(), DASHBOARD_SVG_PATH), 'utf8');
    expect(svg).toBe(dashboardSvg());
    expect(svg.match(/<g>/g)).toHaveLength(placePanels(DASHBOARD).length);
  });

  it('places every Grafana panel where the CloudWatch grid puts it', () => {
    const placed = placePanels(DASHBOARD).map((panel) => [panel.title, panel.x, panel.y, panel.width]);
    const grafana = (grafanaDashboard().panels as Array<{ title: string; gridPos: { x: number; y: number; w: number } }>).map((panel) => [panel.title, panel.gridPos.x, panel.gridPos.y, panel.gridPos.w]);
    expect(grafana).toEqual(placed);
  });

  it('deploys every panel in the stack’s CloudWatch dashboard at its place, each certflow metric under its name and dimensions', () => {
    const widgets = stackDashboardBody().widgets;
    expect(widgets.map((widget) => [widget.properties.title, widget.x, widget.y, widget.width])).toEqual(placePanels(DASHBOARD).map((panel) => [panel.title, panel.x, panel.y, panel.width]));
    const rows = widgets.flatMap((widget) => widget.properties.metrics);
    for (const metric of metricsOf(DASHBOARD)) {
      if (metric.source !== 'certflow') continue;
      const names = [Metrics.ServiceDimension, ...Object.keys(metric.dimensions)];
      // A listed metric names each dimension; one of `any` value is a SEARCH over exactly that schema.
      const listed = rows.some((row) => row[0] === Metrics.Namespace && row[1] === metric.metricName && names.every((name) => row.includes(name)) && row.filter((cell) => typeof cell === 'string').length === 2 + 2 * names.length);
      const searched = rows.some((row) => JSON.stringify(row).includes(`SEARCH('{${Metrics.Namespace},${names.join(',')}} MetricName=\\"${metric.metricName}\\"`));
      expect({ metric: metric.metricName, shown: listed || searched }).toEqual({ metric: metric.metricName, shown: true });
    }
  });

  it('shows only metrics a function gauges, by their contract name (read from the steps that emit them)', () => {
    // The oracle is the emitting code, not the definition: each metric's contract key must appear
    // in a gauge(...) call of functions/steps or functions/handlers.
    const sources = ['functions/steps', 'functions/handlers/kit']
      .flatMap((dir) => readdirSync(join(repoRoot(), dir)).filter((file) => file.endsWith('.ts')).map((file) => readFileSync(join(repoRoot(), dir, file), 'utf8')))
      .join('\n');
    const gauged = new Set([...sources.matchAll(/gauge\(\s*Metrics\.(\w+)/g)].map((match) => Metrics[match[1] as keyof typeof Metrics]));
    const shown = metricsOf(DASHBOARD).flatMap((metric) => (metric.source === 'certflow' ? [metric.metricName] : []));
    expect(shown.length).toBeGreaterThan(3);
    for (const name of shown) expect(gauged).toContain(name);
  });
});
