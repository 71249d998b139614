// Process-wide settings onnxruntime reads once, when its first session creates its environment.
//
// onnxruntime 1.30 on Linux starts a telemetry client while it creates that environment, and the
// client matches regular expressions (libstdc++ std::regex, which recurses a few stack frames per
// character) against the process's command line. A prompt passed as `--prompt` is part of that
// command line: from about 15,000 characters it overflows a worker thread's stack (the main
// thread's from about 25,000) and the process dies by SIGSEGV before any of our code runs again.
// ORT_DISABLE_TELEMETRY=1 skips the client. onnxruntime reads it with getenv(), and only the main
// thread's process.env writes through to the C environment (a worker's is a private copy), so this
// must run on the main thread before the first session is created anywhere in the process: the
// Engine host calls it before it starts its worker, and CompiledModel when loaded in-process.
import { isMainThread } from 'node:worker_threads';

export function prepareOrtEnvironment(): void {
  if (isMainThread) process.env.ORT_DISABLE_TELEMETRY = '1';
}
