import type { Target } from '../contracts/targets';

/** The canary targets first, in their own batch; the rest in batches of `size` (DESIGN.md steps 7-8). */
export function planBatches(targets: readonly Target[], size: number): { canary: Target[]; batches: Target[][] } {
  const sorted = [...targets].sort((a, b) => a.id.localeCompare(b.id));
  const canary = sorted.filter((target) => target.canary);
  const rest = sorted.filter((target) => !target.canary);
  const batches: Target[][] = [];
  for (let index = 0; index < rest.length; index += size) batches.push(rest.slice(index, index + size));
  return { canary, batches };
}
