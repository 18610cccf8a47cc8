import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import si from 'systeminformation';
import { usableCpus } from '../util/usable-cpus.js';

/** What `hil targets check` needs to know about the machine the runner is on. */
export async function probeHost(): Promise<Record<string, unknown>> {
  const [cpu, mem, osInfo, graphics] = await Promise.all([si.cpu(), si.mem(), si.osInfo(), si.graphics().catch(() => undefined)]);
  const cpus = usableCpus();
  let onnxruntime: string | null = null;
  try {
    const ort = await import('onnxruntime-node');
    onnxruntime = ort.env.versions.node ?? 'unknown';
  } catch {
    onnxruntime = null;
  }
  let freeDiskBytes: number | null = null;
  try {
    const fs = statfsSync(os.homedir());
    freeDiskBytes = fs.bavail * fs.bsize;
  } catch {
    freeDiskBytes = null;
  }
  return {
    hostname: os.hostname(),
    myriadDevices: usbDevicesOf(MOVIDIUS_VENDOR),
    platform: process.platform,
    arch: process.arch,
    os: `${osInfo.distro} ${osInfo.release}`.trim(),
    kernel: osInfo.kernel,
    cpuModel: `${cpu.manufacturer} ${cpu.brand}`.trim(),
    cores: cpus.affinity,
    // What the model runtimes get as threads there (src/backends/backend.ts cpuThreads), quota included.
    usableCpus: cpus.cpus,
    cpuQuota: cpus.quota,
    memTotalBytes: mem.total,
    memAvailableBytes: mem.available,
    node: process.version,
    onnxruntime,
    gpus: (graphics?.controllers ?? []).map((c) => `${c.vendor} ${c.model}`.trim()),
    freeDiskBytes,
  };
}

/** Intel Movidius (Myriad-X) USB vendor id. */
const MOVIDIUS_VENDOR = '03e7';

/** How many USB devices of a vendor the kernel sees (a VPU stick or an on-board Myriad-X enumerates as USB). */
function usbDevicesOf(vendor: string): number {
  try {
    return readdirSync('/sys/bus/usb/devices').filter((d) => {
      try {
        return readFileSync(`/sys/bus/usb/devices/${d}/idVendor`, 'utf8').trim() === vendor;
      } catch {
        return false;
      }
    }).length;
  } catch {
    return 0;
  }
}
