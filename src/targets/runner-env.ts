/**
 * Environment the runner starts with, on every target.
 *
 * MALLOC_ARENA_MAX: glibc gives each thread that allocates its own malloc arena (up to 8 per core), and
 * each arena keeps the peak of the multi-megabyte buffers that passed through it; the engine allocates
 * from its main, input and inference threads and libuv's pool, so without a cap the full 10 m tile went
 * past 1.0 GB of RSS (1005 MB, one run). With two arenas it took 954–1010 MB over the twelve rounds of
 * sessions 4 and 5, so rounds vary about as much as the cap saves, at no cost in speed (10 m `ac`:
 * 32.5 s, against 33–35 s uncapped). Pinning the mmap threshold instead saved as much memory but cost
 * 4–6 % of wall time in page faults. Other C libraries ignore the variable.
 *
 * ORT_DISABLE_TELEMETRY: onnxruntime 1.30's Linux build, left at its default, gives every process that
 * opens a session a telemetry uploader: a thread, a device id and an SQLite store of events under
 * ~/.cache/Microsoft/DeveloperTools/.onnxruntime, and an empty /tmp/mat-debug-<pid>.log that stays
 * behind. On a board that is disk writes and a network client inside the measurement, and the boards
 * this runs on are often offline. With the variable set none of it starts.
 */
export const RUNNER_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', ORT_DISABLE_TELEMETRY: '1' };

/**
 * Node's arguments before the runner's entry, on every target. The inference thread hands the main
 * thread fresh output arrays every block (13.6 MB in 20 m `both`), and with V8's small starting
 * old-generation limit the main thread ran a full mark-compact on its 12 MB heap every block or two:
 * 128 in one 20 m `both` run, 60–68 in 20 m `ac` (fresh output tiles then), their marking several
 * CPU-seconds on V8's helper threads, CPU that inference's gaps had to hold. Starting at 64 MB cut them to 44 and 24, and the main
 * thread's GC pauses in 20 m `both` from 2.3 to 1.1 s, at the same peak RSS (873–882 against 870–880 MB,
 * two runs each).
 */
export const RUNNER_NODE_ARGS: readonly string[] = ['--initial-old-space-size=64'];
