/**
 * @module core/process-alive
 * Whether a process id is running on this host. Signal 0 checks existence without delivering
 * anything; EPERM means the process exists but belongs to another user, which still counts as
 * alive (a lock or a cgroup held by it must not be taken over).
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
