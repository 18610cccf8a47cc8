/**
 * The same cgroup run as cgroup.ts, for a remote Linux host reached over SSH: a POSIX sh prefix that
 * creates the group, writes the limits, moves itself in and execs the command, and a cleanup script that
 * prints the counters and removes the group. The limit writes and counter parsing come from
 * cgroup-files.ts, so local and remote runs cannot disagree; only finding the directories happens in sh,
 * at run time, because each SSH session may sit in a different cgroup.
 */
import { targetError, type HilError } from '../errors.js';
import type { CgroupRunResult } from './cgroup.js';
import { cgroupName } from './cgroup.js';
import {
  counterFiles,
  parseCounters,
  planLimits,
  wasOomKilled,
  type CgroupLimits,
  type CgroupVersion,
  type LimitPlan,
} from './cgroup-files.js';

/** Quotes one word for POSIX sh. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The setup script's exit status when it could not put the limits in force (the command never ran). */
export const REMOTE_SETUP_FAILED = 125;
const MARK = 'hil-cgroup';

function renderWrites(plan: LimitPlan): string {
  return plan.writes
    .map((w) =>
      typeof w.value === 'string'
        ? `w ${w.controller} ${w.file} ${shellQuote(w.value)} ${w.optional ? 1 : 0} ${w.disablesSwap ? 1 : 0}`
        : `wp ${w.controller} ${w.file}`,
    )
    .join('\n');
}

// Shared by setup and cleanup: where a controller's hierarchy is mounted and which group this shell is in.
const LOCATE = `own() { awk -v c="$1" '{ line = $0; sub(/^[^:]*:[^:]*:/, "", line); split($0, f, ":")
  if (c == "" && f[1] == "0" && f[2] == "") { print line; exit }
  if (c != "") { n = split(f[2], a, ","); for (i = 1; i <= n; i++) if (a[i] == c) { print line; exit } } }' /proc/self/cgroup; }
mnt() { awk -v t="$1" -v c="$2" '{ for (i = 7; i <= NF; i++) if ($i == "-") break
  if ($(i + 1) != t) next
  if (c == "") { print $5, $4; exit }
  n = split($(i + 3), a, ","); for (j = 1; j <= n; j++) if (a[j] == c) { print $5, $4; exit } }' /proc/self/mountinfo; }
dir_for() {
  m=$(mnt "$1" "$2"); [ -n "$m" ] || return 1
  mp=\${m%% *}; root=\${m#* }; p=$(own "$2"); [ -n "$p" ] || return 1
  if [ "$root" != / ]; then case $p in "$root"*) p=\${p#"$root"} ;; *) p=/ ;; esac; fi
  echo "\${mp%/}\${p%/}"
}`;

function setupScript(name: string, v1: LimitPlan, v2: LimitPlan): string {
  return `set -u
name=${name}
state="\${TMPDIR:-/tmp}/$name.cgroup"
fail() { echo "${MARK}: $1" >&2; for d in $dirs; do rmdir "$d" 2>/dev/null; done; rm -f "$state"; exit ${REMOTE_SETUP_FAILED}; }
${LOCATE}
dirs=; dir_memory=; dir_cpu=; dir_cpuset=
dirof() { case $1 in memory) echo "$dir_memory" ;; cpu) echo "$dir_cpu" ;; cpuset) echo "$dir_cpuset" ;; esac; }
w() {
  f="$(dirof "$1")/$2"
  if [ "$4" = 1 ] && [ ! -e "$f" ]; then return 0; fi
  echo "$3" 2>/dev/null > "$f" || fail "cannot write $3 to $f (run as root, and keep limits within the parent group's)"
  if [ "$5" = 1 ]; then echo "swap 0" >> "$state"; fi
}
wp() { d=$(dirof "$1"); cat "\${d%/*}/$2" 2>/dev/null > "$d/$2" || fail "cannot copy $2 from the parent of $d"; }
mk() { mkdir "$1" 2>/dev/null || fail "cannot create cgroup $1 (run as root, or delegate a cgroup v2 subtree to this user)"; dirs="$dirs $1"; echo "dir $1" >> "$state"; }
: > "$state" || fail "cannot write $state"
u=$(dir_for cgroup2 '') || u=
if [ -n "$u" ] && grep -qw memory "$u/cgroup.controllers" 2>/dev/null; then
  echo "version 2" >> "$state"
  parent=$u
  # v2 "no internal processes": this shell sits in $u, so if $u enables no controllers yet, create the group beside it.
  if [ "$(own '')" != / ] && [ -z "$(cat "$u/cgroup.subtree_control")" ] && [ -n "$(cat "$u/cgroup.procs")" ]; then parent=\${u%/*}; fi
  for c in ${v2.controllers.join(' ')}; do
    grep -qw "$c" "$parent/cgroup.subtree_control" || echo "+$c" 2>/dev/null > "$parent/cgroup.subtree_control" || fail "cannot enable the $c controller in $parent/cgroup.subtree_control (it holds processes, or this user may not)"
  done
  mk "$parent/$name"; dir_memory=$parent/$name; dir_cpu=$dir_memory; dir_cpuset=$dir_memory
  echo "memory $dir_memory" >> "$state"
${renderWrites(v2)}
else
  echo "version 1" >> "$state"
  for c in ${v1.controllers.join(' ')}; do
    d=$(dir_for cgroup "$c") || fail "the $c cgroup controller is not mounted (mount it, or drop that limit)"
    mk "$d/$name"
    case $c in memory) dir_memory=$d/$name ;; cpu) dir_cpu=$d/$name ;; cpuset) dir_cpuset=$d/$name ;; esac
  done
  echo "memory $dir_memory" >> "$state"
${renderWrites(v1)}
fi
for d in $dirs; do echo $$ 2>/dev/null > "$d/cgroup.procs" || fail "cannot move into $d"; done
command -v "$1" >/dev/null 2>&1 || { echo "${MARK}: command not found: $1" >&2; exit 127; }
exec "$@"`;
}

function cleanupScript(name: string): string {
  const files = (v: CgroupVersion) => counterFiles(v).join(' ');
  return `name=${name}
state="\${TMPDIR:-/tmp}/$name.cgroup"
[ -f "$state" ] || { echo "${MARK}: no state file $state (the setup never ran)" >&2; exit 3; }
v=$(sed -n 's/^version //p' "$state"); mem=$(sed -n 's/^memory //p' "$state"); dirs=$(sed -n 's/^dir //p' "$state")
echo "@${MARK} version $v"
grep -q '^swap 0$' "$state" && echo "@${MARK} swap 0"
if [ "$v" = 2 ]; then files="${files(2)}"; else files="${files(1)}"; fi
if [ -n "$mem" ]; then for f in $files; do
  if [ -r "$mem/$f" ]; then echo "@${MARK}-file $f"; cat "$mem/$f"; fi
done; fi
echo "@${MARK}-end"
i=0
while [ $i -lt 250 ]; do
  pids=; for d in $dirs; do [ -r "$d/cgroup.procs" ] && pids="$pids $(cat "$d/cgroup.procs")"; done
  [ -z "$(echo $pids)" ] && break
  if [ "$v" = 2 ] && [ -e "$mem/cgroup.kill" ]; then echo 1 > "$mem/cgroup.kill"; else kill -9 $pids 2>/dev/null; fi
  sleep 0.02; i=$((i + 1))
done
rc=0
for d in $dirs; do
  i=0; while [ -d "$d" ] && ! rmdir "$d" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  [ -d "$d" ] && { echo "${MARK}: cannot remove $d" >&2; rc=1; }
done
rm -f "$state"
exit $rc`;
}

export interface Readout {
  version: CgroupVersion;
  swapDisabled: boolean;
  files: Map<string, string>;
}

/** Parses what the cleanup script printed on stdout. */
export function parseReadout(text: string): Readout {
  let version: CgroupVersion | null = null;
  let swapDisabled = false;
  const files = new Map<string, string>();
  let current: string | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith(`@${MARK}-file `)) {
      current = line.slice(`@${MARK}-file `.length).trim();
      files.set(current, '');
    } else if (line === `@${MARK}-end`) current = null;
    else if (line === `@${MARK} version 1` || line === `@${MARK} version 2`) version = line.endsWith('1') ? 1 : 2;
    else if (line === `@${MARK} swap 0`) swapDisabled = true;
    else if (current !== null) files.set(current, `${files.get(current)}${line}\n`);
  }
  if (version === null) {
    throw targetError('the remote cgroup readout names no cgroup version', 'check the remote host stderr for a "hil-cgroup:" message');
  }
  return { version, swapDisabled, files };
}

export interface RemoteCgroupScripts {
  name: string;
  /** `sh -c '<setup>' hil-cgroup`: append the quoted command and arguments (or use wrap). */
  prefix: string;
  wrap(command: string, args: string[]): string;
  /** Run after the command ended (any way): prints the counters, kills stragglers, removes the group. */
  cleanup: string;
  /** The run's result from the command's exit (SSH exit code or signal) and the cleanup script's stdout. */
  result(exitCode: number | null, signal: NodeJS.Signals | null, cleanupStdout: string): CgroupRunResult;
  /** The HilError to throw when the setup failed (exit 125 plus its message on stderr), else null. */
  setupError(exitCode: number | null, stderr: string): HilError | null;
}

/**
 * Scripts for one run on a remote host. `hostCpus` is the remote machine's core count (CPU quotas above it
 * are capped); `name` defaults to a fresh unique one.
 */
export function buildRemoteCgroupScripts(opts: { limits: CgroupLimits; hostCpus: number; name?: string }): RemoteCgroupScripts {
  const name = opts.name ?? cgroupName();
  const plans = { 1: planLimits(1, opts.limits, opts.hostCpus), 2: planLimits(2, opts.limits, opts.hostCpus) } as const;
  const prefix = `sh -c ${shellQuote(setupScript(name, plans[1], plans[2]))} ${MARK}`;
  return {
    name,
    prefix,
    wrap: (command, args) => [prefix, ...[command, ...args].map(shellQuote)].join(' '),
    cleanup: `sh -c ${shellQuote(cleanupScript(name))}`,
    result(exitCode, signal, cleanupStdout) {
      const r = parseReadout(cleanupStdout);
      const counters = parseCounters(r.version, (f) => r.files.get(f));
      return {
        exitCode,
        signal,
        oomKilled: wasOomKilled(exitCode, signal, counters),
        peakMemoryBytes: counters.peakMemoryBytes,
        peakSource: counters.peakMemoryBytes === null ? 'unavailable' : 'kernel',
        version: r.version,
        limits: { ...plans[r.version].applied, swapBytes: r.swapDisabled ? 0 : null },
      };
    },
    setupError(exitCode, stderr) {
      const said = stderr.split('\n').find((l) => l.startsWith(`${MARK}: `));
      if (said === undefined || (exitCode !== REMOTE_SETUP_FAILED && exitCode !== 127)) return null;
      const message = said.slice(MARK.length + 2);
      return message.startsWith('command not found')
        ? targetError(`on the remote host: ${message}`, 'install it there or give its full path')
        : targetError(`cannot run under cgroup limits on the remote host: ${message}`, 'log in as root (or use sudo) on the target, or delegate a cgroup v2 subtree to that user');
    },
  };
}
