// BullMQ job insertion from inside the alert store's commit script: BullMQ's own addStandardJob, called per new alert.
//
// Why: the store script and Queue.add/addBulk were two round trips per flush, and BullMQ's client-side job building
// (Job objects, JSON and msgpack encoding, one ioredis command per job) was the largest node CPU cost of ingest.
// Here BullMQ's compiled addStandardJob script text becomes a local Lua function of the commit script, so dedupe +
// store + queue is one atomic round trip. Nothing BullMQ does is rewritten: the Lua is BullMQ's, and the options
// are encoded by BullMQ itself once, for a template job (only the job id differs between alert jobs, and the script
// sets that one field). The bullmq version is pinned exactly in package.json; another version is refused at
// startup with what to do, and test/ingest/job-insert.test.ts holds the result to Queue.add's, field by field.
import { createRequire } from 'node:module';
import { Job, type JobsOptions, type Queue } from 'bullmq';
import { z } from 'zod';

/** The bullmq version whose addStandardJob script and argument layout this module was verified against. */
export const BULLMQ_VERSION = '6.7.6';

const require = createRequire(import.meta.url);
const ScriptModule = z.object({ addStandardJob: z.object({ content: z.string().min(100), keys: z.literal(9) }) });
const PackageJson = z.object({ version: z.string() });

let cachedLua: string | undefined;

/**
 * `local function bullmqAddStandardJob(KEYS, ARGV) … end`: BullMQ's script unchanged, its KEYS and ARGV made
 * parameters. Throws, saying what to do, when the installed bullmq is not the verified one.
 */
export function addStandardJobLua(): string {
  if (cachedLua) return cachedLua;
  const { version } = PackageJson.parse(require('bullmq/package.json'));
  if (version !== BULLMQ_VERSION) {
    throw new Error(`sheriff's ingest writes alert jobs with bullmq ${BULLMQ_VERSION}'s own script, but bullmq ${version} is installed: run npm ci (package.json pins ${BULLMQ_VERSION}), or re-verify src/ingest/job-insert.ts against the new version`);
  }
  const content = ScriptModule.parse(require('bullmq/dist/cjs/scripts/addStandardJob-9.js')).addStandardJob.content;
  cachedLua = `local function bullmqAddStandardJob(KEYS, ARGV)\n${content}\nend\n`;
  return cachedLua;
}

/** What the commit script needs to add alert jobs to one queue with one set of options. */
export interface JobInsert {
  /** The queue's nine keys in BullMQ's order (wait, paused, meta, id, completed, delayed, active, events, marker). */
  keys: string[];
  /** The job key prefix (`<prefix>:<queue>:`); a job hash is this + the job id. */
  jobPrefix: string;
  /** The job options as BullMQ msgpacks them for addStandardJob; the script sets `jobId` per job. */
  opts: Buffer;
}

const Captured = z.tuple([
  z.string(), z.string(), z.string(), z.string(), z.string(), z.string(), z.string(), z.string(), z.string(),
  z.instanceof(Buffer), z.string(), z.instanceof(Buffer),
]);

/**
 * Prepares job insertion for `queue` with `opts` (the same for every alert job but the id). BullMQ encodes the options:
 * its own Job.addJob runs against a client that records the script call instead of sending it. Throws if BullMQ would
 * not use addStandardJob (a delay, a priority or a parent in the options) or used other keys than `queue.keys`.
 */
export function prepareJobInsert(queue: Queue, opts: Omit<JobsOptions, 'jobId'>): JobInsert {
  addStandardJobLua();
  let captured: { command: string; list: unknown } | undefined;
  // BullMQ's Job.addJob(client) takes any client with runCommand (it is how flows add to a MULTI); the call is made
  // before the first await inside it, so it is recorded by the time addJob returns.
  const recorder = {
    runCommand(command: string, list: unknown) {
      captured = { command, list };
      return Promise.resolve('template');
    },
  };
  // Queue.add merges the queue's default job options the same way.
  const job = new Job(queue, 'template', {}, { ...queue.defaultJobOptions, ...opts, jobId: 'template' }, 'template');
  job.addJob(recorder as unknown as Parameters<Job['addJob']>[0]).catch(() => undefined);
  if (!captured) throw new Error('bullmq did not build its addStandardJob call synchronously; re-verify src/ingest/job-insert.ts');
  if (captured.command !== `addStandardJob:${BULLMQ_VERSION}`) {
    throw new Error(`bullmq chose ${captured.command} for an alert job; only addStandardJob (no delay, priority or parent) is supported here`);
  }
  const list = Captured.parse(captured.list);
  const k = queue.keys;
  const keys = [k.wait, k.paused, k.meta, k.id, k.completed, k.delayed, k.active, k.events, k.marker] as string[];
  if (list.slice(0, 9).some((key, i) => key !== keys[i])) throw new Error('bullmq used other queue keys than queue.keys for addStandardJob');
  // msgpackr may hand out a view of its working buffer: keep a copy.
  return { keys, jobPrefix: k[''] as string, opts: Buffer.from(list[11]) };
}
