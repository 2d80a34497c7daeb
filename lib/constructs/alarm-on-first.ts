import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * The comparison of an alarm that fires on the first occurrence in one period and clears when the
 * next period is clean, with no data as the normal state: a failed run, a dead letter, a refused
 * node. Each is worth a look at once.
 */
export const ON_FIRST_OCCURRENCE = {
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  threshold: 1,
  evaluationPeriods: 1,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
} as const;
