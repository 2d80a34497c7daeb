import type { LocalCloud } from '../../sandbox/compose/local-cloud';

/**
 * Oracles for the expiry sweep's workflow cases, independent of the code under test: CloudWatch's
 * own reading of EMF documents, and each alarm as the template declares it.
 */
export const DAY_MS = 86_400_000;

export interface Emf {
  dimensions: Record<string, string>;
  metrics: Record<string, number>;
}

/** The EMF documents among the handlers' log lines (CloudWatch's own reading: `_aws.CloudWatchMetrics`). */
export function emfOf(lines: readonly string[]): Emf[] {
  const documents: Emf[] = [];
  for (const line of lines) {
    if (!line.includes('"_aws"')) continue;
    const parsed = JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } };
    for (const directive of parsed._aws.CloudWatchMetrics) {
      const dimensions = Object.fromEntries(directive.Dimensions.flat().map((name) => [name, String(parsed[name])]));
      documents.push({ dimensions, metrics: Object.fromEntries(directive.Metrics.map((metric) => [metric.Name, Number(parsed[metric.Name])])) });
    }
  }
  return documents;
}

export interface AlarmResource {
  AlarmName: string;
  MetricName: string;
  Dimensions: Array<{ Name: string; Value: string }>;
  Threshold: number;
  ComparisonOperator: string;
}

/** The template's alarm of that name (its metric, dimensions, threshold and operator as CloudFormation gets them). */
export function alarmNamed(cloud: LocalCloud, suffix: string): AlarmResource {
  const found = Object.values(cloud.template.Resources as unknown as Record<string, { Type: string; Properties: AlarmResource }>).find(
    (resource) => resource.Type === 'AWS::CloudWatch::Alarm' && String(resource.Properties.AlarmName).endsWith(`-${suffix}`),
  );
  if (!found) throw new Error(`no alarm ${suffix} in the template`);
  return found.Properties;
}

/** Whether the alarm would be in ALARM on the values the functions emitted for its exact metric (name and every dimension). */
export function breaches(alarm: AlarmResource, documents: readonly Emf[]): boolean {
  const values = documents
    .filter((document) => alarm.MetricName in document.metrics)
    .filter((document) => Object.keys(document.dimensions).length === alarm.Dimensions.length && alarm.Dimensions.every((dimension) => document.dimensions[dimension.Name] === dimension.Value))
    .map((document) => document.metrics[alarm.MetricName]!);
  if (values.length === 0) throw new Error(`nothing was emitted for ${alarm.AlarmName}'s metric ${alarm.MetricName}`);
  const compare: Record<string, (value: number) => boolean> = {
    LessThanOrEqualToThreshold: (value) => value <= alarm.Threshold,
    GreaterThanOrEqualToThreshold: (value) => value >= alarm.Threshold,
  };
  return values.some(compare[alarm.ComparisonOperator]!);
}
