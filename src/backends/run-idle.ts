/**
 * Where the inference thread's idle time between two runs goes. Inference is the critical path, so
 * each millisecond it sits idle is one the end-to-end run takes beyond the inference floor, and which
 * side kept it waiting says what to speed up: the main thread's request for the run comes last when
 * writing is behind, the run's input comes last when reading and preparing are. (Its own
 * post-processing, after a run, is not idle time.)
 */
export interface RunIdle {
  /** Idle until the run's request arrived (the main thread was behind). */
  request: number;
  /** Idle after that, until the run's input was there (the input threads were behind). */
  input: number;
}

/**
 * The idle time before a run that starts at `start`, whose request arrived at `arrived`, on a thread
 * whose previous run (and its post-processing) ended at `lastEnd` (undefined for the first run: before it the models load, which
 * is no wait). Times are performance.now() of the inference thread.
 */
export function idleBefore(lastEnd: number | undefined, arrived: number, start: number): RunIdle {
  if (lastEnd === undefined || start <= lastEnd) return { request: 0, input: 0 };
  const request = Math.max(0, Math.min(arrived, start) - lastEnd);
  return { request, input: start - lastEnd - request };
}
