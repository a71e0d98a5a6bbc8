/**
 * GPU detection: which compute backends llama.cpp (through node-llama-cpp's prebuilt binaries) can use on this
 * machine, their devices and memory, and which backend ogpu will use.
 */
import {execFile} from 'node:child_process'
import {cpus, freemem, totalmem} from 'node:os'

import {getLlamaGpuTypes} from 'node-llama-cpp'

import {UserError} from '../errors/index.js'
import {acquireLlama, availableBackends, fromNodeLlamaGpu, GPU_BACKENDS, type GpuBackend, type GpuChoice} from './llama.js'

export interface BackendStatus {
  backend: GpuBackend
  /** Whether llama.cpp can run on it here. */
  available: boolean
  /** Why not, when it is not available. */
  reason?: string
}

export interface NvidiaGpu {
  index: number
  name: string
  memoryTotalBytes: number
  memoryUsedBytes: number
  /** GPU utilization in percent. */
  utilizationPercent: number
  temperatureC?: number
}

export interface NvidiaSmiInfo {
  driverVersion: string
  cudaVersion?: string
  gpus: NvidiaGpu[]
}

export interface GpuReport {
  /** Every backend ogpu knows, with its availability here. */
  backends: BackendStatus[]
  /** The backend ogpu will use (the forced one, or the best available). */
  selected: GpuBackend
  /** Device names of the selected backend (empty on CPU). */
  devices: string[]
  /** VRAM of the selected backend's devices, in bytes (absent on CPU). */
  vram?: {totalBytes: number; usedBytes: number; freeBytes: number}
  cpu: {model: string; cores: number; mathCores: number}
  ram: {totalBytes: number; freeBytes: number}
  llamaCpp: {release: string; systemInfo: string}
  /** From `nvidia-smi` when it is installed, else absent. */
  nvidiaSmi?: NvidiaSmiInfo
}

export interface DetectGpuOptions {
  /** Backend to force. Defaults to `auto` (the best available: CUDA, then Metal, then Vulkan, then CPU). */
  gpu?: GpuChoice
  /** The `nvidia-smi` executable to query. Defaults to `nvidia-smi` on the PATH; skipped cleanly when absent. */
  nvidiaSmiPath?: string
  /** How long `nvidia-smi` may take, in milliseconds. Defaults to 5000. */
  nvidiaSmiTimeoutMs?: number
}

const unavailableReason = (backend: GpuBackend, platformTypes: readonly GpuBackend[], supported: readonly GpuBackend[]): string => {
  if (!platformTypes.includes(backend))
    return backend === 'metal' ? 'Metal is only supported on Apple Silicon macOS.' : `No ${backend.toUpperCase()} build for ${process.platform}-${process.arch}.`
  if (!supported.includes(backend))
    return backend === 'cuda'
      ? 'No NVIDIA driver or CUDA runtime found.'
      : backend === 'vulkan'
        ? 'No Vulkan loader or Vulkan-capable device found.'
        : `No ${backend} device found.`
  return `The prebuilt ${backend.toUpperCase()} binary does not load on this system.`
}

/** Detects the compute backends and devices. A forced `gpu` that is not available is a UserError. */
export async function detectGpu(options: DetectGpuOptions = {}): Promise<GpuReport> {
  const choice = options.gpu ?? 'auto'
  const [platformRaw, supportedRaw, available] = await Promise.all([
    getLlamaGpuTypes('allValid'),
    getLlamaGpuTypes('supported'),
    availableBackends(),
  ])
  const platformTypes = [...platformRaw.map((g) => fromNodeLlamaGpu(g as 'cuda' | 'vulkan' | 'metal' | false)), 'cpu'] as GpuBackend[]
  const supported = supportedRaw.map((g) => fromNodeLlamaGpu(g as 'cuda' | 'vulkan' | 'metal' | false))
  const backends: BackendStatus[] = GPU_BACKENDS.map((backend) =>
    available.includes(backend) ? {backend, available: true} : {backend, available: false, reason: unavailableReason(backend, platformTypes, supported)},
  )
  if (choice !== 'auto' && !available.includes(choice)) {
    const status = backends.find((b) => b.backend === choice)
    throw new UserError(`The ${choice.toUpperCase()} backend is not available on this machine: ${status?.reason ?? 'unknown reason'}`, {
      code: 'GPU_NOT_AVAILABLE',
      hint: `Available here: ${available.join(', ')}. Use --gpu ${available[0] ?? 'cpu'} or --gpu auto.`,
      details: {backend: choice, available},
    })
  }
  const [lease, nvidiaSmi] = await Promise.all([
    acquireLlama(choice),
    queryNvidiaSmi({path: options.nvidiaSmiPath, timeoutMs: options.nvidiaSmiTimeoutMs}),
  ])
  try {
    const {llama} = lease
    const [devices, vram] = await Promise.all([llama.getGpuDeviceNames(), lease.backend === 'cpu' ? undefined : llama.getVramState()])
    const cpuList = cpus()
    return {
      backends,
      selected: lease.backend,
      devices,
      ...(vram ? {vram: {totalBytes: vram.total, usedBytes: vram.used, freeBytes: vram.free}} : {}),
      cpu: {model: cpuList[0]?.model.trim() ?? 'unknown', cores: cpuList.length, mathCores: llama.cpuMathCores},
      ram: {totalBytes: totalmem(), freeBytes: freemem()},
      llamaCpp: {release: llama.llamaCppRelease.release, systemInfo: llama.systemInfo.trim()},
      ...(nvidiaSmi ? {nvidiaSmi} : {}),
    }
  } finally {
    await lease.release()
  }
}

const NVIDIA_QUERY = 'index,name,driver_version,memory.total,memory.used,utilization.gpu,temperature.gpu'

/**
 * Queries `nvidia-smi` for the driver and CUDA versions and per-GPU memory and utilization. Resolves to undefined
 * when nvidia-smi is not installed or fails (never throws).
 */
export async function queryNvidiaSmi(options: {path?: string; timeoutMs?: number} = {}): Promise<NvidiaSmiInfo | undefined> {
  const bin = options.path ?? 'nvidia-smi'
  const run = (args: string[]) =>
    new Promise<string | undefined>((resolve) => {
      execFile(bin, args, {timeout: options.timeoutMs ?? 5000, encoding: 'utf8'}, (err, stdout) => resolve(err ? undefined : stdout))
    })
  const csv = await run([`--query-gpu=${NVIDIA_QUERY}`, '--format=csv,noheader,nounits'])
  if (csv === undefined) return undefined
  const banner = await run([])
  return parseNvidiaSmi(csv, banner ?? '')
}

/** Parses `nvidia-smi --query-gpu=<NVIDIA_QUERY> --format=csv,noheader,nounits` plus the plain banner (for the CUDA version). */
export function parseNvidiaSmi(csv: string, banner: string): NvidiaSmiInfo | undefined {
  const num = (s: string | undefined) => {
    const n = Number(s?.trim())
    return Number.isFinite(n) ? n : undefined
  }
  const gpus: NvidiaGpu[] = []
  let driverVersion = ''
  for (const line of csv.split('\n')) {
    const cols = line.split(',').map((c) => c.trim())
    if (cols.length < 6) continue
    const [index, name, driver, memTotal, memUsed, util, temp] = cols
    driverVersion ||= driver ?? ''
    const MiB = 1024 * 1024
    gpus.push({
      index: num(index) ?? gpus.length,
      name: name ?? 'unknown',
      memoryTotalBytes: (num(memTotal) ?? 0) * MiB,
      memoryUsedBytes: (num(memUsed) ?? 0) * MiB,
      utilizationPercent: num(util) ?? 0,
      ...(num(temp) === undefined ? {} : {temperatureC: num(temp)}),
    })
  }
  if (gpus.length === 0) return undefined
  const cuda = /CUDA Version:\s*([\d.]+)/.exec(banner)?.[1]
  return {driverVersion, ...(cuda ? {cudaVersion: cuda} : {}), gpus}
}
