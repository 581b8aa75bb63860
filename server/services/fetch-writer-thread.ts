/**
 * The fetch-log writer thread (see fetch-writer.ts): its own connection to the database file,
 * writing the batches the main thread posts, in short transactions, and checkpointing the WAL
 * in the background.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { openDatabase } from '../../db/index.js';
import { DeviceStore } from '../../db/stores/devices.js';
import type { WriterBatch, WriterData, WriterReply } from './fetch-writer.js';

const data = workerData as WriterData;
const port: MessagePort = data.port;
const committed = new Int32Array(data.committed);
const db = openDatabase(data.path);
const store = new DeviceStore(db);
let lastCheckpoint = Date.now();

port.on('message', (batch: WriterBatch) => {
  const reply: WriterReply = { seq: batch.seq, served: [], error: null };
  try {
    // Short transactions: the main thread's own writes wait for the write lock at most one chunk.
    for (let i = 0; i < batch.records.length || i === 0; i += data.chunk) {
      store.writeFetches(batch.records.slice(i, i + data.chunk), i === 0 ? batch.served : []);
      if (i === 0) reply.served = batch.served.map((f) => ({ mac: f.mac, configVersion: f.configVersion }));
    }
  } catch (err) {
    reply.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  if (Date.now() - lastCheckpoint >= data.checkpointMs) {
    lastCheckpoint = Date.now();
    try {
      // PASSIVE: copies what no reader still needs and never waits for anyone.
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Retried at the next interval; the main connection checkpoints again if this thread stops.
    }
  }
  port.postMessage(reply);
  Atomics.store(committed, 0, batch.seq);
  Atomics.notify(committed, 0);
});
