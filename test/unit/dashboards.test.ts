import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../lib/repo-root';
import { DASHBOARD, metricsOf, placePanels } from '../../lib/dashboards/definition';
import { GRAFANA_DASHBOARD_PATH, grafanaDashboard, grafanaDashboardText } from '../../lib/dashboards/grafana';
import { Metrics } from '../../functions/contracts/functions';
import { DASHBOARD_SVG_PATH, dashboardSvg } from '../../lib/dashboards/svg';

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
