import { DASHBOARD, GRID_COLUMNS, placePanels, type DashboardDefinition, type PanelMetric } from './definition';

/**
 * A picture of the dashboard for the README, drawn from the shared definition: each panel at its
 * grid place with its title, its view (a number or a time series) and the metrics it shows. It is
 * a layout, not a screenshot: no values are drawn. scripts/generate-dashboards.ts writes it to
 * docs/dashboard.svg.
 */
export const DASHBOARD_SVG_PATH = 'docs/dashboard.svg';

const CELL_WIDTH = 40;
const CELL_HEIGHT = 22;
const MARGIN = 12;

/** XML-escapes text for an attribute or element body. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function metricLine(metric: PanelMetric): string {
  if (metric.source === 'workflow') return `${metric.workflow} ${metric.metricName} (${metric.statistic})`;
  const dimensions = Object.entries(metric.dimensions).map(([name, value]) => `${name}=${value === 'cluster' ? 'cluster' : '*'}`);
  return `${metric.metricName} {${dimensions.join(', ')}} (${metric.statistic})`;
}

export function dashboardSvg(definition: DashboardDefinition = DASHBOARD): string {
  const panels = placePanels(definition);
  const rows = Math.max(...panels.map((panel) => panel.y + panel.height));
  const width = GRID_COLUMNS * CELL_WIDTH + 2 * MARGIN;
  const height = rows * CELL_HEIGHT + 2 * MARGIN + 28;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#f4f5f7"/>`,
    `<text x="${MARGIN}" y="${MARGIN + 16}" font-size="18" font-weight="bold" fill="#1b1f24">${escape(definition.title)}: operations dashboard (generated from lib/dashboards/definition.ts)</text>`,
  ];
  for (const panel of panels) {
    const x = MARGIN + panel.x * CELL_WIDTH + 3;
    const y = MARGIN + 28 + panel.y * CELL_HEIGHT + 3;
    const w = panel.width * CELL_WIDTH - 6;
    const h = panel.height * CELL_HEIGHT - 6;
    parts.push(`<g><rect x="${x}" y="${y}" width="${w}" height="${h}" rx="4" fill="#ffffff" stroke="#c7ccd1"/>`);
    parts.push(`<text x="${x + 8}" y="${y + 18}" font-size="13" font-weight="bold" fill="#1b1f24">${escape(panel.title)}</text>`);
    if (panel.view === 'number') {
      parts.push(`<text x="${x + w / 2}" y="${y + h / 2 + 8}" font-size="30" text-anchor="middle" fill="#8a939c">#</text>`);
    } else {
      // A flat axis and a placeholder line: the picture shows the layout, never invented data.
      const baseline = y + h - 14 - Math.min(panel.metrics.length, 5) * 12;
      parts.push(`<line x1="${x + 8}" y1="${baseline}" x2="${x + w - 8}" y2="${baseline}" stroke="#c7ccd1"/>`);
      parts.push(`<polyline fill="none" stroke="#4a90d9" stroke-dasharray="4 3" points="${x + 8},${baseline - 10} ${x + w - 8},${baseline - 10}"/>`);
    }
    panel.metrics.slice(0, 5).forEach((metric, index) => {
      parts.push(`<text x="${x + 8}" y="${y + h - 8 - (Math.min(panel.metrics.length, 5) - 1 - index) * 12}" font-size="9" fill="#59626b">${escape(metricLine(metric))}</text>`);
    });
    parts.push('</g>');
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
