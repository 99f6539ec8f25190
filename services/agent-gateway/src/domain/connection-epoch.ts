/**
 * Where an agent's connection epochs continue when Redis lost them: seconds since 1970. That exceeds every
 * epoch issued before unless an agent connected more than once a second on average since the previous loss,
 * and `epoch × 2^20` (facts versions) stays a safe integer until the year 2242.
 */
export function epochBaseAfterLoss(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}
