/**
 * The phones a benchmark simulates: MACs per vendor OUI, a real-looking User-Agent carrying the
 * MAC (shapes from test/fixtures/user-agents.jsonl), and each vendor's boot sequence.
 */

export type BenchVendor = 'yealink' | 'polycom' | 'sangoma-p' | 'sangoma-s';
export const BENCH_VENDORS: readonly BenchVendor[] = ['yealink', 'polycom', 'sangoma-p', 'sangoma-s'];

export interface BenchPhone {
  mac: string;
  vendor: BenchVendor;
  model: string;
  ua: string;
  /** The files the phone asks for at boot, in order (some answer 404 by design). */
  boot: string[];
  /** Three requests per phone for the boot-storm run. */
  storm: string[];
  /** The device's own config file (the uncached first-fetch run asks each once). */
  config: string;
}

const OUI: Record<BenchVendor, number> = {
  yealink: 0x805ec0,
  polycom: 0x0004f2,
  'sangoma-p': 0x000fd3,
  // Sangoma P and S share the OUI: S MACs start half-way through the range.
  'sangoma-s': 0x000fd3,
};
const MODEL: Record<BenchVendor, string> = { yealink: 'T46U', polycom: 'VVX450', 'sangoma-p': 'P330', 'sangoma-s': 'S505' };

const colons = (mac: string): string => mac.replace(/(..)(?!$)/g, '$1:');

/** The i-th phone of a fleet: vendors round-robin, MACs unique per vendor. */
export function benchPhone(i: number): BenchPhone {
  const vendor = BENCH_VENDORS[i % 4]!;
  const n = Math.floor(i / 4) + (vendor === 'sangoma-s' ? 0x800000 : 0);
  const mac = (OUI[vendor] * 0x1000000 + n).toString(16).padStart(12, '0');
  const model = MODEL[vendor];
  switch (vendor) {
    case 'yealink':
      return {
        mac, vendor, model,
        ua: `Yealink SIP-T46U 108.86.0.20 ${colons(mac)}`,
        boot: [`${mac}.boot`, 'y000000000000.boot', 'y000000000108.cfg', `${mac}.cfg`],
        storm: [`${mac}.boot`, 'y000000000108.cfg', `${mac}.cfg`],
        config: `${mac}.cfg`,
      };
    case 'polycom':
      return {
        mac, vendor, model,
        ua: `FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018 (SN:${mac}) Type/Application`,
        boot: [`${mac}.cfg`, `${mac}-deskprov.cfg`, `${mac}-phone.cfg`, `${mac}-directory.xml`],
        storm: [`${mac}.cfg`, `${mac}-deskprov.cfg`, `${mac}-phone.cfg`],
        config: `${mac}-deskprov.cfg`,
      };
    case 'sangoma-p':
      return {
        mac, vendor, model,
        ua: `Sangoma P330 4_27_8 ${mac.toUpperCase()}`,
        boot: ['000000000000.cfg', `${mac}.cfg`],
        // Two files, then the config again (a phone re-checks after applying it).
        storm: ['000000000000.cfg', `${mac}.cfg`, `${mac}.cfg`],
        config: `${mac}.cfg`,
      };
    case 'sangoma-s':
      return {
        mac, vendor, model,
        ua: `Sangoma S505 2.0.4.73 ${mac}`,
        boot: [`cfg${mac}.xml`],
        // The S-series asks one name; the storm run has it poll three times like the others.
        storm: [`cfg${mac}.xml`, `cfg${mac}.xml`, `cfg${mac}.xml`],
        config: `cfg${mac}.xml`,
      };
  }
}

export function benchFleet(n: number): BenchPhone[] {
  return Array.from({ length: n }, (_, i) => benchPhone(i));
}
