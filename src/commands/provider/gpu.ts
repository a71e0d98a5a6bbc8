import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {color, keyValues, table} from '../../cli/format.js'
import {detectGpu} from '../../gpu/detect.js'
import {formatBytes} from '../../gpu/format.js'
import {GPU_CHOICES, type GpuChoice} from '../../gpu/llama.js'

export default class ProviderGpu extends BaseCommand<typeof ProviderGpu> {
  static override summary = 'Show the compute backends llama.cpp can use here (CUDA, Vulkan, Metal, CPU), the devices, and which one ogpu will use.'
  static override description = 'Uses the prebuilt llama.cpp binaries of node-llama-cpp (never compiles). With --gpu, checks that a backend is available and fails with a hint when it is not. Where nvidia-smi is installed, also shows the driver and CUDA versions and per-GPU memory and utilization.'
  static override examples = ['<%= config.bin %> provider gpu', '<%= config.bin %> provider gpu --gpu cuda', '<%= config.bin %> provider gpu --json']
  static override flags = {
    gpu: Flags.string({description: 'Backend to use (auto picks the best available).', options: [...GPU_CHOICES], default: 'auto'}),
  }

  async run() {
    const report = await detectGpu({gpu: this.flags.gpu as GpuChoice})
    this.log(
      table(
        ['BACKEND', 'AVAILABLE', 'NOTE'],
        report.backends.map((b) => [
          b.backend === report.selected ? color.bold(`${b.backend} *`) : b.backend,
          b.available ? color.green('yes') : color.dim('no'),
          b.reason ?? (b.backend === report.selected ? 'selected' : ''),
        ]),
      ),
    )
    this.log('')
    this.log(
      keyValues([
        ['Selected', report.selected],
        ['Devices', report.devices.length > 0 ? report.devices.join(', ') : report.selected === 'cpu' ? '(CPU)' : '(none reported)'],
        ['VRAM', report.vram ? `${formatBytes(report.vram.freeBytes)} free of ${formatBytes(report.vram.totalBytes)}` : undefined],
        ['CPU', `${report.cpu.model}, ${report.cpu.cores} cores (${report.cpu.mathCores} used for math)`],
        ['RAM', `${formatBytes(report.ram.freeBytes)} free of ${formatBytes(report.ram.totalBytes)}`],
        ['llama.cpp', report.llamaCpp.release],
        ['NVIDIA driver', report.nvidiaSmi ? `${report.nvidiaSmi.driverVersion}${report.nvidiaSmi.cudaVersion ? `, CUDA ${report.nvidiaSmi.cudaVersion}` : ''}` : undefined],
      ]),
    )
    if (report.nvidiaSmi) {
      this.log('')
      this.log(
        table(
          ['GPU', 'NAME', 'MEMORY', 'UTIL'],
          report.nvidiaSmi.gpus.map((g) => [g.index, g.name, `${formatBytes(g.memoryUsedBytes)} / ${formatBytes(g.memoryTotalBytes)}`, `${g.utilizationPercent}%`]),
        ),
      )
    }
    return report
  }
}
