// BullMQ job insertion from inside sheriff's own Lua: BullMQ's addStandardJob script and its exact arguments.
//
// Why: the alert store script and BullMQ's Queue.add were two round trips per POST, and the ioredis/BullMQ
// client work around each was the largest CPU cost of ingest. Running BullMQ's own script text inside the
// store script makes the store + queue write one atomic round trip. Compatibility is kept by not rewriting
// anything BullMQ does: the Lua is BullMQ's compiled script, and the arguments are produced by BullMQ's own
// Job.addJob() against a capturing client (same keys, same msgpack encoding, same option defaults).
// The bullmq version is pinned in package.json; a different version is refused at startup, not at runtime.
import { createRequire } from 'node:module';
import { Job, type JobsOptions, type Queue } from 'bullmq';
import { z } from 'zod';

/** The bullmq version whose addStandardJob script and argument layout this module was verified against. */
export const BULLMQ_VERSION = '6.7.6';

const require = createRequire(import.meta.url);

const ScriptModule = z.object({ addStandardJob: z.object({ content: z.string().min(100), keys: z.literal(9) }) });
const PackageJson = z.object({ version: z.string() });

/** One job's script arguments: msgpacked args, JSON data, msgpacked options (BullMQ's ARGV[1..3]). */
export type JobArgs = [Buffer | string, string, Buffer | string];

export interface JobInserter {
  /** A Lua `local function bullmqAddStandardJob(KEYS, ARGV)` wrapping BullMQ's script unchanged. */
  readonly lua: string;
  /** The queue's nine keys in BullMQ's order (wait, paused, meta, id, completed, delayed, active, events, marker). */
  readonly keys: readonly string[];
  /** The job hash key of a job id (BullMQ's `<prefix>:<queue>:<id>`). */
  jobKey(id: string): string;
  /** BullMQ's arguments for one standard job, built by BullMQ itself; no I/O. */
  args(name: string, data: unknown, opts: JobsOptions & { jobId: string }): Promise<JobArgs>;
}

const ArgList = z.tuple([
  z.string(), z.string(), z.string(), z.string(), z.string(), z.string(), z.string(), z.string(), z.string(),
  z.union([z.instanceof(Buffer), z.string()]), z.string(), z.union([z.instanceof(Buffer), z.string()]),
]);

/** Loads BullMQ's script for the installed version; throws if the installed bullmq is not the verified one. */
function loadScript(): string {
  const { version } = PackageJson.parse(require('bullmq/package.json'));
  if (version !== BULLMQ_VERSION) {
    throw new Error(`sheriff's ingest writes BullMQ jobs with bullmq ${BULLMQ_VERSION}'s own script, but bullmq ${version} is installed; pin bullmq to ${BULLMQ_VERSION} or re-verify src/ingest/job-insert.ts`);
  }
  return ScriptModule.parse(require('bullmq/dist/cjs/scripts/addStandardJob-9.js')).addStandardJob.content;
}

let cachedLua: string | undefined;

export function createJobInserter(queue: Queue): JobInserter {
  cachedLua ??= `local function bullmqAddStandardJob(KEYS, ARGV)\n${loadScript()}\nend\n`;
  const k = queue.keys;
  const keys = [k.wait, k.paused, k.meta, k.id, k.completed, k.delayed, k.active, k.events, k.marker] as string[];
  let verified = false;

  async function args(name: string, data: unknown, opts: JobsOptions & { jobId: string }): Promise<JobArgs> {
    let captured: { command: string; list: unknown } | undefined;
    // BullMQ's Job.addJob(client) accepts any client with runCommand (it is how flows add to a MULTI).
    const capture = {
      runCommand(command: string, list: unknown) {
        captured = { command, list };
        return Promise.resolve(opts.jobId);
      },
    };
    // Queue.add merges the queue's default job options the same way.
    const job = new Job(queue, name, data, { ...queue.defaultJobOptions, ...opts, jobId: opts.jobId }, opts.jobId);
    await job.addJob(capture as unknown as Parameters<Job['addJob']>[0]);
    if (!captured || captured.command !== `addStandardJob:${BULLMQ_VERSION}`) {
      throw new Error(`BullMQ chose ${captured?.command ?? 'no script'} for an alert job; only addStandardJob is supported here`);
    }
    // The first job is checked in full (types, and the keys BullMQ used are the ones passed to the script).
    if (!verified) {
      const full = ArgList.parse(captured.list);
      if (full.slice(0, 9).some((key, i) => key !== keys[i])) throw new Error('BullMQ used other queue keys than queue.keys');
      verified = true;
    }
    const list = captured.list;
    if (!Array.isArray(list) || list.length !== 12) throw new Error('BullMQ produced an unexpected addStandardJob argument list');
    return [list[9], list[10], list[11]] as JobArgs;
  }

  return {
    lua: cachedLua,
    keys,
    jobKey: (id) => `${k['']}${id}`,
    args,
  };
}
