// Preloaded into a profiled functions process: ends it with process.exit on SIGTERM, so that --cpu-prof writes its
// profile (a process killed by the signal's default action writes nothing).
process.once('SIGTERM', () => process.exit(0));
