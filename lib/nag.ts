import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * Runs cdk-nag's AwsSolutions pack on everything under `scope` (normally the App) as a CDK
 * validation plugin. Any unacknowledged finding, warning or error, makes synthesis fail and is
 * listed in the cloud assembly's validation-report.json. Acknowledge a finding next to the
 * resource it concerns, with `Validations.of(resource).acknowledge({ id, reason })`.
 */
export function applyNag(scope: IConstruct): void {
  Validations.of(scope).addPlugins(new AwsSolutionsChecks(scope, { verbose: true }));
}
