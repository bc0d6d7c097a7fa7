/**
 * How far back the average looks: a sample's weight is 1 - e^(-Δt/τ), Δt the time since the one
 * before, so a replica sampled rarely (one that 'fastest' only explores) is judged by its latest
 * statements, not by how slow it was a minute ago.
 */
export const LATENCY_DECAY_MS = 1000;
/** The least weight of a sample: statements that end at one instant still move the average. */
export const LATENCY_MIN_WEIGHT = 0.1;

/**
 * A replica's recent statement time (ms), what `replicaSelection: 'fastest'` compares: an
 * exponentially weighted moving average of the time its statements took, from when each was sent
 * on its connection to its answer (network and server time, not routing or waiting for a token).
 */
export class ReplicaLatency {
  /** undefined: no statement measured yet. */
  private average?: number;
  private lastAt = 0;

  /** The average, or undefined before the first statement. */
  get averageMs(): number | undefined {
    return this.average;
  }

  /** One statement took `ms`; `now` on the clock the samples share (performance.now()). */
  record(ms: number, now: number): void {
    if (!(ms >= 0 && ms < Infinity)) return;
    if (this.average === undefined) {
      this.average = ms;
    } else {
      const weight = Math.max(LATENCY_MIN_WEIGHT, 1 - Math.exp(-Math.max(0, now - this.lastAt) / LATENCY_DECAY_MS));
      this.average += weight * (ms - this.average);
    }
    this.lastAt = now;
  }
}
