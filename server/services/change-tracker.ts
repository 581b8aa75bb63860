/**
 * The one mechanism by which a change reaches phones: inside the caller's transaction it bumps
 * each affected device's config version (which invalidates cached renders) and queues one
 * durable resync per device. After commit the caller (or `afterCommit`) wakes the dispatcher.
 */
import type { DeviceRecord, DeviceStore } from '../../db/stores/devices.js';
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
    /**
     * A digest of the files a device gets now (Renderer.digest), for changedIfFilesMove();
     * without it every device named there counts as changed.
     */
    private readonly filesDigest?: (device: DeviceRecord) => string,
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

  /**
   * Runs `write` (inside the caller's transaction), then changed() for only those of `macs` whose
   * files differ afterwards, rendered before and after. An edit no file shows (a street address,
   * a NOTIFY contact) reaches no phone: a NOTIFY makes most phones reboot, mid-call if need be.
   */
  changedIfFilesMove(macs: readonly Mac[], reason: string, write: () => void): number {
    const digest = this.filesDigest;
    if (!digest) {
      write();
      return this.changed(macs, reason);
    }
    const of = (mac: Mac) => {
      const d = this.devices.get(mac);
      return d ? digest(d) : null;
    };
    const before = new Map(macs.map((mac) => [mac, of(mac)]));
    write();
    return this.changed(macs.filter((mac) => before.get(mac) !== of(mac)), reason);
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
