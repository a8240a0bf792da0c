// Process checks shared by the tests and their harnesses.

/** True while a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
