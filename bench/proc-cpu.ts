// CPU time from /proc/<pid>/stat, for `npm run bench:cpu`: one process (the server), or a PostgreSQL cluster (its
// postmaster and every process it forked: backends, WAL writer, checkpointer...). The bench runs as root, so every
// process's stat file is readable whoever owns the process.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const TICKS_PER_SECOND = 100; // Linux USER_HZ, the unit of utime/stime in /proc/<pid>/stat

export interface CpuTime {
  readonly user: number; // seconds
  readonly system: number; // seconds
}

interface Stat extends CpuTime {
  readonly ppid: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited between the directory listing and the read
  }
  // Fields after the parenthesised command name (which may hold spaces): state is field 3, ppid 4, utime 14, stime 15.
  const fields = text.slice(text.lastIndexOf(') ') + 2).split(' ');
  return {
    ppid: Number(fields[1]),
    user: Number(fields[11]) / TICKS_PER_SECOND,
    system: Number(fields[12]) / TICKS_PER_SECOND,
  };
}

/** utime and stime of one process (all its threads), in seconds. */
export function processCpu(pid: number): CpuTime {
  const stat = readStat(pid);
  if (stat === undefined) throw new Error(`process ${pid} is gone`);
  return stat;
}

/** The postmaster's pid: the first line of postmaster.pid in the server's data directory (needs a superuser). */
export async function postmasterPid(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    const pid = Number(readFileSync(path.join(rows[0]!.data_directory, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no postmaster pid under ${rows[0]!.data_directory}`);
    return pid;
  } finally {
    await client.end();
  }
}

/** Per-pid CPU of the postmaster and its children, now. */
export function clusterSnapshot(postmaster: number): Map<number, CpuTime> {
  const snapshot = new Map<number, CpuTime>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = readStat(pid);
    if (stat !== undefined && (pid === postmaster || stat.ppid === postmaster)) snapshot.set(pid, stat);
  }
  return snapshot;
}

/**
 * CPU the cluster spent between two snapshots. A process born in between counts whole (its life is inside the
 * window); one that exited in between is lost, which is why the server's pool is warm before the first snapshot.
 */
export function clusterDelta(before: Map<number, CpuTime>, after: Map<number, CpuTime>): CpuTime {
  let user = 0;
  let system = 0;
  for (const [pid, a] of after) {
    const b = before.get(pid);
    user += a.user - (b?.user ?? 0);
    system += a.system - (b?.system ?? 0);
  }
  return { user, system };
}
