import type { FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';

/** Promise forms of the few SFTP calls deploy needs; errors keep ssh2's `code` (2 = no such file). */

export function sftpStat(sftp: SFTPWrapper, remotePath: string): Promise<Stats | undefined> {
  return new Promise((resolve, reject) =>
    sftp.stat(remotePath, (err, st) => {
      if (!err) return resolve(st);
      if ((err as Error & { code?: number }).code === 2) return resolve(undefined);
      reject(err);
    }),
  );
}

export function sftpReaddir(sftp: SFTPWrapper, remotePath: string): Promise<FileEntryWithStats[]> {
  return new Promise((resolve, reject) => sftp.readdir(remotePath, (err, list) => (err ? reject(err) : resolve(list))));
}

export function sftpRename(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => sftp.rename(from, to, (err) => (err ? reject(err) : resolve())));
}

/** Uploads with ssh2's pipelined writer; `onBytes` gets each chunk's size as it is acknowledged. */
export function sftpPut(sftp: SFTPWrapper, localPath: string, remotePath: string, onBytes: (n: number) => void): Promise<void> {
  return new Promise((resolve, reject) =>
    sftp.fastPut(localPath, remotePath, { concurrency: 16, chunkSize: 64 * 1024, step: (_t, nb) => onBytes(nb) }, (err) =>
      err ? reject(err) : resolve(),
    ),
  );
}
