// Job affinity in leasing: a contributor's idle thread that has a job loaded (its worker already runs that job's
// interpreter) gets more of that job, but only while the job holds no more than its fair share of running chunks, so
// affinity never lets one job keep contributors another job is waiting for. Pure: the store passes the counts in.

/** One servable job as the share planner sees it. */
export interface ShareCandidate {
  /** Chunk replicas the job can still hand out. */
  available: number;
  /** Chunks of the job running now, across every contributor. */
  running: number;
  /** Idle threads of the caller that have this job loaded. */
  loaded: number;
}

/**
 * Lease slots each job keeps for the caller's threads that already have it loaded: up to one per such thread, as long
 * as the job stays within its fair share (running chunks plus the caller's slots, spread evenly over the servable
 * jobs). The rest of `max` is shared round-robin as before (shareSlots).
 * Example: max 4, two jobs with plenty of work, nothing running, all four threads on job A → [2, 0]: two threads
 * keep A, the other two go to the round-robin share (and so to B).
 */
export function affinitySlots(max: number, jobs: ShareCandidate[]): number[] {
  const open = jobs.filter((job) => job.available > 0).length;
  if (open === 0) return jobs.map(() => 0);
  const running = jobs.reduce((sum, job) => sum + job.running, 0);
  const fair = (running + max) / open;
  let left = max;
  return jobs.map((job) => {
    const room = Math.max(0, Math.ceil(fair - job.running));
    const keep = Math.min(job.loaded, job.available, room, left);
    left -= keep;
    return keep;
  });
}
