/**
 * Environment the runner starts with, on every target. glibc gives each thread that allocates its own
 * malloc arena (up to 8 per core), and each arena keeps the peak of the multi-megabyte buffers that
 * passed through it; the engine allocates from its main, input and inference threads and libuv's
 * pool, so without a cap the full 10 m tile went past 1.0 GB of RSS (1005 MB). Two arenas keep it
 * under (at most 983 MB over three rounds: results/bench-tile-10m-both.json) at no cost in speed
 * (10 m `ac`: 32.5 s, against 33–35 s uncapped). Pinning the mmap
 * threshold instead saved as much memory but cost 4–6 % of wall time in page faults. Other C libraries
 * ignore the variable.
 */
export const RUNNER_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
