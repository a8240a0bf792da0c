// Preloaded (node --import) into every process the demo starts. The demo holds an IPC channel to each
// child; if the demo dies without cleaning up (SIGKILL, a crash), the channel closes and the child stops
// itself, so no simulator or router is left running.
if (process.channel) {
  process.channel.unref(); // the channel alone must not keep the child alive
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
export {};
