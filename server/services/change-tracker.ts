/**
 * The one mechanism by which a change reaches phones: inside the caller's transaction it bumps
 * each affected device's config version (which invalidates cached renders) and queues one
 * durable resync per device. After commit the caller (or `afterCommit`) wakes the dispatcher.
 */
import type { DeviceStore } from '../../db/stores/devices.js';
import type { OutboxStore } from '../../db/stores/outbox.js';
import type { Mac } from '../domain/mac.js';
import type { Clock } from './clock.js';

/** Devices per bulk statement (JSON array bound as one parameter). */
const CHUNK = 5000;

export class ChangeTracker {
  private readonly listeners = new Set<() => void>();
  private readonly changeListeners = new Set<(macs: readonly Mac[]) => void>();

  constructor(
    private readonly devices: DeviceStore,
    private readonly outbox: OutboxStore,
    private readonly clock: Clock,
  ) {}

  /** Call inside the transaction that made the change. */
  changed(macs: Iterable<Mac>, reason: string, opts: { notify?: boolean } = {}): number {
    const now = this.clock.now();
    const unique = [...new Set(macs)];
    for (let i = 0; i < unique.length; i += CHUNK) {
      const chunk = unique.slice(i, i + CHUNK);
      this.devices.bumpVersions(chunk, now);
      if (opts.notify !== false) this.outbox.enqueueMany(chunk, reason, now);
    }
    if (unique.length > 0 && opts.notify !== false) queueMicrotask(() => this.wake());
    if (unique.length > 0 && this.changeListeners.size > 0) queueMicrotask(() => this.changeListeners.forEach((l) => l(unique)));
    return unique.length;
  }

  /** Queue a resync without a config change (admin "resync"). */
  resync(macs: Iterable<Mac>, reason: string): number {
    const now = this.clock.now();
    const unique = [...new Set(macs)];
    for (let i = 0; i < unique.length; i += CHUNK) this.outbox.enqueueMany(unique.slice(i, i + CHUNK), reason, now);
    if (unique.length > 0) queueMicrotask(() => this.wake());
    return unique.length;
  }

  onQueued(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Devices whose config changed, after the caller's (synchronous) transaction (the pre-renderer). */
  onChanged(listener: (macs: readonly Mac[]) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private wake(): void {
    for (const l of this.listeners) l();
  }
}
