/**
 * The write queue of a store with group commit: what is queued while a batch is being written
 * goes out together in the next batch, one batch at a time. `write` is called with each batch in
 * order and settles its items itself; should it throw, every item of the batch is rejected with
 * that error.
 */
export function groupCommit<P extends { reject(err: unknown): void }>(write: (batch: P[]) => Promise<void>): { push(item: P): void; drain(): Promise<void> } {
  let queue: P[] = [];
  let flushing: Promise<void> | null = null;

  async function flush(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await write(batch);
      } catch (err) {
        // Rejecting an item already settled does nothing.
        for (const item of batch) item.reject(err);
      }
    }
  }

  function kick(): void {
    if (flushing) return;
    flushing = flush().finally(() => {
      flushing = null;
      if (queue.length > 0) kick();
    });
  }

  return {
    push(item) {
      queue.push(item);
      kick();
    },
    /** Resolves once nothing is queued or being written. */
    async drain() {
      while (flushing) await flushing;
    },
  };
}
