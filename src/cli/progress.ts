import cliProgress from 'cli-progress';

/**
 * Shows progress of long work: a bar on a TTY, JSON lines with --json, nothing otherwise
 * (a log file should not fill with carriage returns).
 */
export interface Progress {
  update(stage: string, done: number, total: number): void;
  stop(): void;
}

export function createProgress(opts: { json: boolean; stream?: NodeJS.WriteStream }): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.json) {
    return {
      update: (stage, done, total) => {
        process.stdout.write(`${JSON.stringify({ ev: 'progress', stage, done, total })}\n`);
      },
      stop: () => undefined,
    };
  }
  if (!stream.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream, format: '{stage} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let current = '';
  return {
    update: (stage, done, total) => {
      if (!started || stage !== current) {
        if (started) bar.stop();
        bar.start(total, done, { stage: stage.padEnd(6) });
        started = true;
        current = stage;
      } else {
        bar.update(done, { stage: stage.padEnd(6) });
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
