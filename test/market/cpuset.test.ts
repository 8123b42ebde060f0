/**
 * The market bench's CPU placements (bench/market/cpuset.ts) on this machine's real cgroup v1
 * cpuset controller: `pinned` confines the measured process to CPU 0 and the load to CPU 1, as the
 * kernel reports each process's allowed CPUs; `shared` gives both back every CPU; the groups are
 * removed after, and a dead run's groups are cleaned up by the next.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CPUSET_PREFIX, CPUSET_ROOT, CoreSplit, checkCpusetController, parseCpuList, parseCpuMode, removeStaleCpusets } from '../../bench/market/cpuset.js';

/** The CPUs the kernel lets `pid` run on, from /proc/<pid>/status. */
const allowedCpus = (pid: number) => /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
/** The cgroup v1 CPU group `pid` is in ('/' for the root). */
const cpuGroup = (pid: number) => /^\d+:cpu:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))![1];
const sleeper = () => spawn('sleep', ['30'], { stdio: 'ignore' });
/**
 * On a machine without a writable cgroup v1 cpuset controller (cgroup v2 only, or not root) the
 * placement tests check that the bench refuses with its clear error instead: they never pass empty.
 */
const controllerMissing = (() => {
  try {
    checkCpusetController();
    return null;
  } catch (err) {
    return err as Error;
  }
})();
const refusedClearly = (err: Error) => assert.match(err.message, /--cpu-modes pinned.*(cpuset|root|CPUs)/);

test('pinned puts the measured process on CPU 0 and the load on CPU 1; owned also weighs each side; shared gives both every CPU; remove leaves no group', () => {
  if (controllerMissing) return refusedClearly(controllerMissing);
  const owner = process.pid;
  const gatewayPath = join(CPUSET_ROOT, `${CPUSET_PREFIX}${owner}-gateway`);
  const measured = sleeper();
  const loadChild = sleeper();
  try {
    const split = CoreSplit.create(CPUSET_ROOT, owner);
    assert.ok(existsSync(gatewayPath));
    split.apply('pinned', measured.pid!, [loadChild.pid!]);
    assert.equal(allowedCpus(measured.pid!), '0');
    assert.equal(allowedCpus(loadChild.pid!), '1');
    assert.equal(split.describe('pinned'), 'gateway on CPU 0, simulators + subscribers on CPU 1');
    split.apply('shared', measured.pid!, [loadChild.pid!]);
    const all = readFileSync(join(CPUSET_ROOT, 'cpuset.cpus'), 'utf8').trim();
    assert.equal(allowedCpus(measured.pid!), all);
    assert.equal(allowedCpus(loadChild.pid!), all);
    split.apply('owned', measured.pid!, [loadChild.pid!]);
    assert.equal(allowedCpus(measured.pid!), '0');
    assert.equal(allowedCpus(loadChild.pid!), '1');
    assert.equal(cpuGroup(measured.pid!), `/${CPUSET_PREFIX}${owner}-gateway`);
    assert.equal(cpuGroup(loadChild.pid!), `/${CPUSET_PREFIX}${owner}-load`);
    assert.equal(readFileSync(`/sys/fs/cgroup/cpu/${CPUSET_PREFIX}${owner}-gateway/cpu.shares`, 'utf8').trim(), '65536');
    split.apply('pinned', measured.pid!, [loadChild.pid!]);
    assert.equal(cpuGroup(measured.pid!), '/', 'pinned runs at the default weight');
    assert.equal(allowedCpus(measured.pid!), '0');
    split.apply('owned', measured.pid!, [loadChild.pid!]);
    split.remove(); // with both still inside: they go back to the root first
    assert.equal(existsSync(gatewayPath), false);
    assert.equal(existsSync(`/sys/fs/cgroup/cpu/${CPUSET_PREFIX}${owner}-gateway`), false);
    assert.equal(allowedCpus(measured.pid!), all);
    assert.equal(cpuGroup(measured.pid!), '/');
  } finally {
    measured.kill();
    loadChild.kill();
  }
});

test('a pid that has exited is skipped, not an error', () => {
  if (controllerMissing) return refusedClearly(controllerMissing);
  const gone = spawnSync('true').pid!;
  const split = CoreSplit.create(CPUSET_ROOT, process.pid);
  try {
    assert.doesNotThrow(() => split.apply('pinned', gone, [gone]));
  } finally {
    split.remove();
  }
});

test('the groups of a run whose coordinator is dead are removed by the next run', () => {
  if (controllerMissing) return refusedClearly(controllerMissing);
  const dead = spawnSync('true').pid!;
  const stale = join(CPUSET_ROOT, `${CPUSET_PREFIX}${dead}-load`);
  mkdirSync(stale);
  assert.deepEqual(removeStaleCpusets().filter((n) => n.includes(String(dead))), [`${CPUSET_PREFIX}${dead}-load`]);
  assert.equal(existsSync(stale), false);
});

test('no cpuset controller, or a bad mode: an error that says what to do', () => {
  const dir = mkdtempSync(join(tmpdir(), 'no-cpuset-'));
  assert.throws(() => checkCpusetController(dir), /cgroup v1 cpuset controller at .*Run with --cpu-modes shared/);
  writeFileSync(join(dir, 'cpuset.cpus'), '0\n');
  writeFileSync(join(dir, 'cgroup.procs'), '');
  assert.throws(() => checkCpusetController(dir), /needs CPUs 0 and 1 \(the root cpuset has 0\)/);
  assert.throws(() => parseCpuMode('isolated'), /--cpu-modes: 'isolated' is none of shared, pinned, owned/);
  assert.deepEqual(parseCpuList('0-2,5\n'), [0, 1, 2, 5]);
});
