/** src/gpu: GPU detection, the model store, the inference engine, verification by prefill, benchmarks. */
export {detectGpu, parseNvidiaSmi, queryNvidiaSmi, type BackendStatus, type DetectGpuOptions, type GpuReport, type NvidiaGpu, type NvidiaSmiInfo} from './detect.js'
export {acquireLlama, availableBackends, parseGpuChoice, resolveBackend, GPU_BACKENDS, GPU_CHOICES, type GpuBackend, type GpuChoice, type LlamaLease} from './llama.js'
export {readGgufSummary, assertGgufMagic, fileTypeName, type GgufSummary} from './gguf.js'
export {downloadResumable, resolveModelUri, type DownloadOptions, type DownloadProgress, type ResolvedModelUri} from './download.js'
export {ModelStore, defaultModelName, type AddModelOptions, type AddModelResult, type AddProgress, type ModelEntry, type ModelInspection, type ModelStoreOptions} from './model-store.js'
export {
  InferenceEngine,
  resolveSampling,
  DEFAULT_MAX_TOKENS,
  DEFAULT_TOP_K,
  DEFAULT_TOP_P,
  type ChatMessage,
  type ChatRequest,
  type EngineLoadOptions,
  type EngineStats,
  type GenerateRequest,
  type GenerateResult,
  type GenerationStream,
  type ResolvedSampling,
  type SamplingOptions,
  type TokenEvent,
} from './engine.js'
export {verifyCompletion, effectiveEpsilon, epsilonFloor, DEFAULT_EPSILON, DEFAULT_MAX_RANK, DEFAULT_MIN_PROBABILITY, type TokenVerdict, type VerifyFailure, type VerifyFailureReason, type VerifyRequest, type VerifyResult} from './verifier.js'
export {runBenchmark, saveBenchmark, loadBenchmark, listBenchmarks, benchmarksDir, type BenchmarkOptions, type BenchmarkResult, type Throughput} from './benchmark.js'
export {HashCache, sha256File, writeJsonAtomic} from './files.js'
