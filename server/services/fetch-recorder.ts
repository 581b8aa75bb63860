/**
 * Records phone fetches without putting a SQLite write on every phone request: records are
 * buffered and written in one transaction every `intervalMs` (or when `maxBatch` is reached).
 * `flush()` is called before anything reads fetch data back (admin API, shutdown).
 */
import type { DeviceStore, FetchRecord } from '../../db/stores/devices.js';
import { Batcher } from './batcher.js';

export class FetchRecorder extends Batcher<FetchRecord> {
  constructor(devices: DeviceStore, intervalMs = 250, maxBatch = 2000, onError: (err: unknown) => void = () => {}) {
    super((batch) => devices.recordFetches(batch), intervalMs, maxBatch, onError);
  }
}
