/**
 * Environment the runner starts with, on every target. glibc gives each thread that allocates its own
 * malloc arena (up to 8 per core), and each arena keeps the peak of the multi-megabyte buffers that
 * passed through it; the engine allocates from its main, input and inference threads and libuv's
 * pool, so without a cap the full 10 m tile went past 1.0 GB of RSS (1005 MB, one run). With two
 * arenas it took 954–1010 MB over the twelve rounds of sessions 4 and 5 (the latest three:
 * results/bench-tile-10m-both.json), so rounds vary about as much as the cap saves, at no cost in speed
 * (10 m `ac`: 32.5 s, against 33–35 s uncapped). Pinning the mmap
 * threshold instead saved as much memory but cost 4–6 % of wall time in page faults. Other C libraries
 * ignore the variable.
 */
export const RUNNER_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
