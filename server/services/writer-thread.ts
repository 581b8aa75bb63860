/**
 * What the two writer threads (the fetch-log writer, fetch-writer.ts; the database thread,
 * database-thread.ts) share: how they are started and how the main thread waits for them. Each
 * gets its own end of a MessageChannel for its answers (so the main thread can drain them
 * synchronously with receiveMessageOnPort), and stores the sequence number of the last batch it
 * finished in a shared counter, on which the main thread blocks only where a read must see every
 * write (an admin read of fetches, shutdown).
 */
import { Worker, type MessagePort, type ResourceLimits } from 'node:worker_threads';

export interface WriterThreadStart<Reply> {
  /** The thread's source (evaluated). */
  source: string;
  /** Its workerData; `port` is transferred to it. */
  data: { port: MessagePort };
  resourceLimits: ResourceLimits;
  /** The main thread's end of the channel. */
  port: MessagePort;
  onReply: (r: Reply) => void;
  /** The thread failed or exited (also on a clean exit: the owner decides). */
  stopped: (err: Error) => void;
  /** For the exit message, e.g. "database thread". */
  name: string;
}

/** Starts the thread; neither it nor its channel keeps the process alive (shutdown closes them). */
export function startWriterThread<Reply>(o: WriterThreadStart<Reply>): Worker {
  const worker = new Worker(o.source, { eval: true, workerData: o.data, transferList: [o.data.port], resourceLimits: o.resourceLimits });
  worker.unref();
  o.port.on('message', o.onReply);
  o.port.unref();
  worker.on('error', o.stopped);
  worker.on('exit', (code) => o.stopped(new Error(`${o.name} exited (code ${code})`)));
  return worker;
}

/**
 * Blocks until `finished[0]` reaches `target`, `running()` says the thread is gone, or `timeoutMs`
 * passes. Returns how many batches are still unfinished then (0: none, or the thread is gone).
 */
export function waitFinished(finished: Int32Array, target: number, timeoutMs: number, running: () => boolean): number {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = Atomics.load(finished, 0);
    if (done >= target || !running()) return 0;
    const left = deadline - Date.now();
    if (left <= 0) return target - done;
    Atomics.wait(finished, 0, done, left);
  }
}
