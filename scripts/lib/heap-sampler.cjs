// Preloaded into a process a benchmark watches (`node -r …/heap-sampler.cjs`): samples the V8 heap every 20 ms and
// writes the peak seen so far, in bytes, to HEAP_SAMPLE_FILE whenever it grows by a MiB or more (a process stopped
// by a signal runs no exit handler, so the file is kept current instead).
const { writeFileSync } = require('node:fs');

const file = process.env.HEAP_SAMPLE_FILE;
if (file) {
  let peak = 0;
  let written = 0;
  const sample = () => {
    const used = process.memoryUsage().heapUsed;
    if (used > peak) peak = used;
    if (peak - written >= 1024 * 1024 || written === 0) {
      written = peak;
      writeFileSync(file, String(peak));
    }
  };
  sample();
  setInterval(sample, 20).unref();
}
