/** Small helpers shared by the bench scripts. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}

/** The variants in a fresh order for each round (seeded, so a run can be repeated): no variant always follows the same one. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  let seed = Math.imul(round + 1000, 0x9e3779b1);
  const random = () => {
    seed = Math.imul(seed ^ (seed >>> 15), 0x85ebca6b);
    seed = Math.imul(seed ^ (seed >>> 13), 0xc2b2ae35);
    return ((seed ^= seed >>> 16) >>> 0) / 4294967296;
  };
  const order = [...items];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}
