// A probe's ring buffer of rare events. The native RingBuffer delivers records
// from the event loop, where a throw would reach 'uncaughtException' and end
// the agent; a record this side cannot handle is kept instead and thrown by
// the next consume(), i.e. from the probe's collect(), to the manager.
import { RingBuffer, type BpfMap } from '../../native/index.js';

export class EventRing {
  private readonly ring: RingBuffer;
  private failure: unknown;

  constructor(map: BpfMap, onRecord: (data: Buffer) => void) {
    this.ring = new RingBuffer(map, (data) => {
      try {
        onRecord(data);
      } catch (err) {
        this.failure ??= err;
      }
    });
  }

  /** Handles every pending record now; throws the first failure since the last call. */
  consume(): void {
    this.ring.consume();
    const failure = this.failure;
    this.failure = undefined;
    if (failure !== undefined) throw failure;
  }

  close(): void {
    this.ring.close();
  }
}
