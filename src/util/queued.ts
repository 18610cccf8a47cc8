/**
 * Marks a promise that waits in a queue, to be awaited in its turn. Should it fail before then (or after
 * the work has failed for another reason), its rejection is not "unhandled": that would end the thread or
 * process with an anonymous error, before the failure is reported in order, with its kind and fix.
 * Awaiting the promise still throws.
 */
export function queued<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
