/**
 * What the two writer threads (the fetch-log writer, fetch-writer.ts; the database thread,
 * database-thread.ts) share: the owner's side (WriterThread: starting the thread, posting batches,
 * waiting for them, writing them on the main thread when the thread fails). Each
 * gets its own end of a MessageChannel for its answers (so the main thread can drain them
 * synchronously with receiveMessageOnPort), and stores the sequence number of the last batch it
 * finished in a shared counter, on which the main thread blocks only where a read must see every
 * write (an admin read of fetches, shutdown).
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort, type ResourceLimits } from 'node:worker_threads';

/**
 * Blocks until `finished[0]` reaches `target`, `running()` says the thread is gone, or `timeoutMs`
 * passes. Returns how many batches are still unfinished then (0: none, or the thread is gone).
 */
function waitFinished(finished: Int32Array, target: number, timeoutMs: number, running: () => boolean): number {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = Atomics.load(finished, 0);
    if (done >= target || !running()) return 0;
    const left = deadline - Date.now();
    if (left <= 0) return target - done;
    Atomics.wait(finished, 0, done, left);
  }
}

/**
 * A writer thread as its owner on the main thread sees it: batches posted with a sequence number
 * and held until the thread answers, a synchronous wait for them (`sync`), and, when the thread
 * fails, every batch it had not answered written on the main thread (`writeHere`).
 */
export abstract class WriterThread<Reply, Pending> {
  protected worker: Worker | null = null;
  /** The main thread's end of the channel; `threadPort` goes to the thread in its workerData. */
  protected readonly port: MessagePort;
  protected readonly threadPort: MessagePort;
  /** [0]: the sequence number of the last batch the thread finished; further slots are the subclass's. */
  protected readonly finished: Int32Array;
  private sent = 0;
  /** Batches posted and not answered yet. */
  protected readonly inFlight = new Map<number, Pending>();

  protected constructor(
    private readonly name: string,
    protected readonly syncTimeoutMs: number,
    protected readonly onError: (err: Error) => void,
    slots = 1,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.threadPort = port2;
    this.finished = new Int32Array(new SharedArrayBuffer(4 * slots));
  }

  /** Whether the thread is running (false once it failed or was closed). */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Starts the thread (`data.port` is transferred to it); neither it nor the channel keeps the process alive. */
  protected start(source: string, data: { port: MessagePort }, resourceLimits: ResourceLimits): void {
    const worker = new Worker(source, { eval: true, workerData: data, transferList: [data.port], resourceLimits });
    worker.unref();
    this.port.on('message', (r: Reply) => this.apply(r));
    this.port.unref();
    worker.on('error', (err) => this.stop(err));
    worker.on('exit', (code) => this.stop(new Error(`${this.name} exited (code ${code})`)));
    this.worker = worker;
  }

  /** Posts `message(seq)` and holds `pending` until its answer; false when the thread is not running. */
  protected post(pending: Pending, message: (seq: number) => unknown): boolean {
    if (!this.worker) return false;
    const seq = ++this.sent;
    this.inFlight.set(seq, pending);
    this.port.postMessage(message(seq));
    return true;
  }

  /** Blocks until every batch posted so far is finished, and applies the answers. */
  sync(): void {
    const left = waitFinished(this.finished, this.sent, this.syncTimeoutMs, () => this.alive());
    if (left > 0) this.onError(new Error(`${this.name} did not finish ${left} batches within ${this.syncTimeoutMs} ms`));
    this.receive();
  }

  /** Waits for what was posted, then stops the thread; the main thread does its work from then on. */
  async close(): Promise<void> {
    this.sync();
    const w = this.worker;
    this.worker = null;
    this.port.close();
    if (w) await w.terminate();
    this.released();
  }

  /** Whether to keep waiting for the thread (the fetch-log writer also checks it started). */
  protected alive(): boolean {
    return this.worker !== null;
  }

  protected receive(): void {
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) this.apply(m.message as Reply);
  }

  /** An answer from the thread. */
  protected abstract apply(r: Reply): void;
  /** The thread is gone (closed or failed): what it did for the main connection is the main connection's again. */
  protected abstract released(): void;
  /** A batch the thread did not finish, written on the main thread. */
  protected abstract writeHere(pending: Pending): void;

  /** The thread is gone: what it had not written is written here, and so is everything after. */
  protected stop(err: Error): void {
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    void w.terminate();
    this.receive();
    this.released();
    this.onError(err);
    const left = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const p of left) {
      try {
        this.writeHere(p);
      } catch (e) {
        this.onError(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }
}
