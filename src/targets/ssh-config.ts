import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { targetError } from '../errors.js';

/** What `~/.ssh/config` says about one host alias: the keywords hil honours. */
export interface SshConfigEntry {
  hostName?: string;
  port?: number;
  user?: string;
  identityFiles: string[];
}

/** Glob match of one OpenSSH host pattern (`*` and `?`), case-insensitive like ssh. */
function patternMatches(pattern: string, host: string): boolean {
  const re = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`, 'i').test(host);
}

/** A `Host` line matches when some pattern matches and no negated (`!`) pattern does. */
export function hostLineMatches(patterns: string[], host: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (patternMatches(p.slice(1), host)) return false;
    } else if (patternMatches(p, host)) {
      matched = true;
    }
  }
  return matched;
}

function expandTokens(value: string, alias: string, entry: SshConfigEntry): string {
  const home = os.homedir();
  const expanded = value.startsWith('~/') ? path.join(home, value.slice(2)) : value;
  return expanded.replace(/%([%dhunr])/g, (_m, t: string) => {
    switch (t) {
      case '%':
        return '%';
      case 'd':
        return home;
      case 'h':
        return entry.hostName ?? alias;
      case 'n':
        return alias;
      case 'u':
        return os.userInfo().username;
      default:
        return entry.user ?? os.userInfo().username;
    }
  });
}

/** Splits `Keyword value`, `Keyword=value` and quoted values the way ssh_config(5) allows. */
function splitLine(line: string): [string, string[]] | undefined {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(trimmed);
  if (!m) return [trimmed.toLowerCase(), []];
  const args = [...m[2].matchAll(/"([^"]*)"|(\S+)/g)].map((a) => a[1] ?? a[2]);
  return [m[1].toLowerCase(), args];
}

/**
 * Resolves `alias` through an OpenSSH client config. First value wins, as in ssh; `IdentityFile` accumulates.
 * `Match` blocks are not evaluated (their settings are skipped) and `Include` is not followed, so a setting that
 * lives only there must be put in the target profile instead.
 */
export function resolveSshConfig(text: string, alias: string): SshConfigEntry {
  const entry: SshConfigEntry = { identityFiles: [] };
  let active = true;
  for (const line of text.split(/\r?\n/)) {
    const parsed = splitLine(line);
    if (!parsed) continue;
    const [key, args] = parsed;
    if (key === 'host') {
      active = hostLineMatches(args, alias);
      continue;
    }
    if (key === 'match') {
      active = false;
      continue;
    }
    if (!active || args.length === 0) continue;
    const value = args[0];
    if (key === 'hostname' && entry.hostName === undefined) entry.hostName = expandTokens(value, alias, entry);
    else if (key === 'user' && entry.user === undefined) entry.user = value;
    else if (key === 'port' && entry.port === undefined) {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw targetError(`ssh config gives Port "${value}" for ${alias}`, 'set Port to a number from 1 to 65535');
      }
      entry.port = port;
    } else if (key === 'identityfile' && value.toLowerCase() !== 'none') {
      entry.identityFiles.push(expandTokens(value, alias, entry));
    }
  }
  return entry;
}

/** Reads and resolves an ssh config file; a missing file means no settings. */
export async function loadSshConfig(file: string, alias: string): Promise<SshConfigEntry> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { identityFiles: [] };
    throw targetError(
      `cannot read ssh config ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      'fix its permissions or point sshConfigFile at a readable file',
    );
  }
  return resolveSshConfig(text, alias);
}
