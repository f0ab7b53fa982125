// In-process change notices: stores change, routes say so here, and live streams (SSE) wake up at once instead of
// waiting for their next poll. Streams still poll, so changes made by another coordinator process are seen too.
import { EventEmitter } from 'node:events';

export class JobNotices {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  changed(jobId: string): void {
    this.emitter.emit(jobId);
    if (jobId !== '*') this.emitter.emit('*');
  }

  /** Calls `listener` whenever `jobId` (or '*': any job) changes; returns the unsubscribe function. */
  watch(jobId: string, listener: () => void): () => void {
    this.emitter.on(jobId, listener);
    return () => this.emitter.off(jobId, listener);
  }
}
