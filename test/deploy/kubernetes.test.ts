/**
 * @module test/deploy/kubernetes
 * ops/kubernetes rendered as kustomize would (its resources list, namespace and image), every
 * object validated against the Kubernetes schemas (kubernetes-models, and the Prometheus
 * Operator's for the ServiceMonitor), and every probe, port, variable and selector checked
 * against the code: the configuration table, a running server, the alert rules and the benchmark.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse } from 'yaml';
import { CONFIG_FIELDS, clusterProblems, loadConfig } from '../../src/config.js';
import { productionProblems } from '../../src/core/production-check.js';
import { startServer } from '../helpers/server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = join(root, 'ops/kubernetes');

// A loose shape: the schemas do the typing; the checks below read what they need.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [key: string]: any };

interface Kustomization {
  namespace: string;
  resources: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

const CLUSTER_SCOPED = new Set(['Namespace']);

/** What `kubectl apply -k` sends: each resource's documents, namespaced, images replaced. */
function render(k: Kustomization): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const file of k.resources) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      assert.deepEqual(doc.errors, [], `${file} parses as YAML`);
      const obj = doc.toJS() as K8sObject | null;
      if (!obj) continue;
      if (!CLUSTER_SCOPED.has(obj.kind)) obj.metadata.namespace = k.namespace;
      for (const c of [...(obj.spec?.template?.spec?.initContainers ?? []), ...(obj.spec?.template?.spec?.containers ?? [])] as { image: string }[]) {
        const image = k.images?.find((i) => i.name === c.image);
        if (image) c.image = `${image.newName ?? image.name}:${image.newTag ?? 'latest'}`;
      }
      objects.push(obj);
    }
  }
  return objects;
}

/** The kubernetes-models class for an object's apiVersion and kind. */
async function modelOf(obj: K8sObject): Promise<new (data: unknown) => { validate(): void }> {
  const path = obj.apiVersion === 'monitoring.coreos.com/v1' ? `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${obj.kind}` : `kubernetes-models/${obj.apiVersion}/${obj.kind}`;
  const mod = (await import(path)) as Record<string, new (data: unknown) => { validate(): void }>;
  assert.ok(mod[obj.kind], `a schema for ${obj.apiVersion} ${obj.kind}`);
  return mod[obj.kind];
}

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Kubernetes quantity → bytes (memory) or cores (cpu). */
function quantity(q: string | number): number {
  const m = /^([\d.]+)(m|Ki|Mi|Gi|k|M|G)?$/.exec(String(q));
  assert.ok(m, `quantity ${q}`);
  const factor = { m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * factor;
}

const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
const objects = render(kustomization);
const find = (kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind}/${name} is rendered`);
  return o;
};
const deployment = find('Deployment', 'airwaves');
const podSpec = deployment.spec.template.spec;
const hub = podSpec.containers.find((c: { name: string }) => c.name === 'hub');
const configMap = find('ConfigMap', 'airwaves-config');
const secret = find('Secret', 'airwaves-secrets');
/** What an operator puts in the Secret instead of the shipped placeholders. */
const REAL_SECRETS = {
  'jwt-secret': '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  'api-key': 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9',
  'database-url': 'postgresql://airwaves:s3cr3t-Xk9vQ2@airwaves-postgres:5432/airwaves',
};
const configVariables = new Set<string>(Object.values(CONFIG_FIELDS).map(([variable]) => variable));

/** The environment a hub container sees: its ConfigMap keys and its own env entries. */
function containerEnv(container: { envFrom?: { configMapRef?: { name: string } }[]; env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[] }, secretValues: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) Object.assign(env, find('ConfigMap', from.configMapRef!.name).data);
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) env[e.name] = secretValues[ref.key];
    else if (e.value !== undefined) env[e.name] = e.value;
    else env[e.name] = 'airwaves-5d8f7c9b4-x2k4q'; // fieldRef metadata.name: a pod name
  }
  return env;
}

describe('Kubernetes manifests (ops/kubernetes)', () => {
  test('the kustomization lists every manifest in the folder, each once', () => {
    const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort();
    assert.deepEqual([...kustomization.resources].sort(), files);
    assert.ok(objects.length >= 11);
  });

  test('every object validates against the Kubernetes schemas (and the validator does reject a broken one)', async () => {
    for (const obj of objects) {
      const Model = await modelOf(obj);
      assert.doesNotThrow(() => new Model(obj).validate(), `${obj.kind}/${obj.metadata.name} validates`);
    }
    const broken = structuredClone(deployment);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eight thousand';
    delete broken.spec.selector;
    const Model = await modelOf(broken);
    assert.throws(() => new Model(broken).validate(), /containerPort|selector/);
  });

  test('every environment variable is in the configuration table and its value passes validation', () => {
    const names = new Set<string>();
    for (const c of [...podSpec.initContainers, ...podSpec.containers]) {
      for (const from of c.envFrom ?? []) for (const key of Object.keys(find('ConfigMap', from.configMapRef.name).data)) names.add(key);
      for (const e of c.env ?? []) names.add(e.name);
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) assert.ok(ref.key in find('Secret', ref.name).stringData, `${e.name}: key ${ref.key} exists in Secret ${ref.name}`);
      }
    }
    for (const name of names) assert.ok(configVariables.has(name), `${name} is a variable of src/core/config.ts`);
    for (const name of ['AIRWAVES_JWT_SECRET', 'AIRWAVES_API_KEY', 'DATABASE_URL', 'AIRWAVES_REDIS_URL', 'AIRWAVES_NODE_ID', 'AIRWAVES_SHUTDOWN_DRAIN_MS']) assert.ok(names.has(name), `${name} is set`);
    const config = loadConfig(containerEnv(hub, REAL_SECRETS));
    assert.equal(config.port, hub.ports.find((p: { name: string }) => p.name === 'http').containerPort);
    assert.equal(config.allowAnonymous, false);
    assert.equal(config.liveRtmpPort, hub.ports.find((p: { name: string }) => p.name === 'rtmp').containerPort, 'the RTMP container port is the live app\'s listener');
  });

  test('the placeholder Secret is refused (by the configuration and the init container\'s production check); real secrets pass', () => {
    const init = podSpec.initContainers.find((c: { name: string }) => c.name === 'check-config');
    assert.deepEqual(init.command.slice(0, 4), ['node', 'dist/src/cli.js', 'check-config', '--production']);
    assert.equal(init.command.find((a: string) => a.startsWith('--replicas=')), `--replicas=${deployment.spec.replicas}`);
    assert.equal(init.image, hub.image, 'the check runs the same build as the node');
    const replicas = deployment.spec.replicas as number;
    // The placeholder secrets are listed as published values: no node starts with them.
    assert.throws(() => loadConfig(containerEnv(init, secret.stringData)), (err: Error) => /AIRWAVES_JWT_SECRET: is a value published/.test(err.message) && /AIRWAVES_API_KEY: is a value published/.test(err.message));
    // The placeholder database password passes configuration; the production check refuses it.
    const placeholderDb = containerEnv(init, { ...REAL_SECRETS, 'database-url': secret.stringData['database-url'] });
    assert.deepEqual(productionProblems({ config: loadConfig(placeholderDb), env: placeholderDb, replicas }).map((p) => p.variable), ['DATABASE_URL']);
    const real = containerEnv(init, REAL_SECRETS);
    assert.deepEqual(productionProblems({ config: loadConfig(real), env: real, replicas }), []);
    assert.deepEqual(clusterProblems(loadConfig(real)), [], 'serve accepts it as a cluster node');
  });

  describe('probes and routes against a running server', () => {
    let server: Awaited<ReturnType<typeof startServer>>;
    before(async () => {
      server = await startServer();
    });
    after(() => server.close());

    test('readiness is /readyz?apps=all (every app serves), liveness and startup /healthz, on the container\'s HTTP port, and each answers 200', async () => {
      const httpPort = hub.ports.find((p: { name: string }) => p.name === 'http');
      assert.equal(hub.readinessProbe.httpGet.path, '/readyz?apps=all');
      assert.equal(hub.livenessProbe.httpGet.path, '/healthz');
      assert.equal(hub.startupProbe.httpGet.path, '/healthz');
      for (const probe of [hub.readinessProbe, hub.livenessProbe, hub.startupProbe]) {
        assert.ok([httpPort.name, httpPort.containerPort].includes(probe.httpGet.port), `probe port ${probe.httpGet.port} is the HTTP port`);
        assert.equal((await fetch(`${server.url}${probe.httpGet.path}`)).status, 200, `${probe.httpGet.path} answers 200`);
      }
      const monitor = find('ServiceMonitor', 'airwaves');
      const res = await fetch(`${server.url}${monitor.spec.endpoints[0].path}`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /hub_/);
    });
  });

  test('graceful shutdown fits: grace period > preStop sleep + drain + the CLI\'s 5 s forced-exit margin; rolling updates keep every node', () => {
    const drainMs = Number(configMap.data.AIRWAVES_SHUTDOWN_DRAIN_MS);
    const [cmd, seconds] = hub.lifecycle.preStop.exec.command as string[];
    assert.equal(cmd, 'sleep');
    const forcedExitMarginMs = 5000; // src/cli.ts: setTimeout(process.exit, shutdownDrainMs + 5000)
    assert.ok(podSpec.terminationGracePeriodSeconds * 1000 > Number(seconds) * 1000 + drainMs + forcedExitMarginMs);
    assert.ok(drainMs > 0);
    assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
    assert.ok(deployment.spec.minReadySeconds >= 5, 'a new node warms up before the next old one stops (the rolling-restart test waits as long)');
    assert.ok(deployment.spec.replicas >= 2, 'more than one node, so a restart always has somewhere to go');
  });

  test('resources come from the hub benchmark: memory request above its peak RSS, limit 1.5x, a core requested', () => {
    // The Deployment runs the default apps: the benchmark's built CLI with every app, at every ladder step.
    type Run = { target: { cpuPercent: { server: number } }; ladder: { serverPeakRssMB: number }[] };
    const bench = JSON.parse(readFileSync(join(root, 'bench/results/hub.json'), 'utf8')) as { load: Record<string, Run> };
    const allApps = bench.load['airwaves-cli-all'];
    assert.ok(allApps, 'bench/results/hub.json has the built CLI with its default apps (airwaves-cli-all)');
    const peakBytes = Math.max(...allApps.ladder.map((s) => s.serverPeakRssMB)) * 1024 * 1024;
    const { requests, limits } = hub.resources;
    assert.ok(quantity(requests.memory) >= peakBytes, `memory request ${requests.memory} ≥ benchmark peak ${(peakBytes / 1024 ** 2).toFixed(0)} MiB`);
    assert.ok(quantity(limits.memory) >= 1.5 * peakBytes, `memory limit ${limits.memory} ≥ 1.5 × peak`);
    assert.ok(quantity(requests.cpu) >= allApps.target.cpuPercent.server / 100, 'a node gets the core it used at the target load');
    assert.ok(quantity(limits.cpu) > quantity(requests.cpu));
  });

  test('Services, PodDisruptionBudget and ServiceMonitor select the hub pods; the RTMP port has its own LoadBalancer', () => {
    const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
    assert.ok(matches(deployment.spec.selector.matchLabels, podLabels));
    const service = find('Service', 'airwaves');
    assert.ok(matches(service.spec.selector, podLabels));
    assert.ok(matches(find('PodDisruptionBudget', 'airwaves').spec.selector.matchLabels, podLabels));
    const containerPorts = new Map<string, { containerPort: number; protocol: string }>(hub.ports.map((p: { name: string }) => [p.name, p]));
    for (const p of service.spec.ports) assert.ok(containerPorts.has(p.targetPort), `Service port ${p.name} targets a container port`);

    const rtmp = find('Service', 'airwaves-rtmp');
    assert.equal(rtmp.spec.type, 'LoadBalancer');
    assert.ok(matches(rtmp.spec.selector, podLabels));
    assert.deepEqual(rtmp.spec.ports.map((p: { port: number; protocol: string; targetPort: string }) => [p.port, p.protocol, containerPorts.get(p.targetPort)?.containerPort]), [[1935, 'TCP', 1935]]);

    const monitor = find('ServiceMonitor', 'airwaves');
    assert.equal(monitor.metadata.namespace, service.metadata.namespace);
    const selected = objects.filter((o) => o.kind === 'Service' && matches(monitor.spec.selector.matchLabels, o.metadata.labels));
    assert.deepEqual(selected.map((o) => o.metadata.name), ['airwaves'], 'the ServiceMonitor scrapes the hub Service only');
    assert.equal(monitor.spec.endpoints.length, 1);
    assert.equal(monitor.spec.endpoints[0].interval, '30s');
    assert.ok(service.spec.ports.some((p: { name: string }) => p.name === monitor.spec.endpoints[0].port));
  });

  test('the alert rules\' job label is what the ServiceMonitor gives the scraped nodes', () => {
    const alerts = readFileSync(join(root, 'ops/prometheus/alerts.yml'), 'utf8');
    const jobs = new Set([...alerts.matchAll(/job="([^"]+)"/g)].map((m) => m[1]));
    const monitor = find('ServiceMonitor', 'airwaves');
    // The Prometheus Operator sets `job` to the Service's name unless spec.jobLabel names a label.
    const service = find('Service', 'airwaves');
    const job = monitor.spec.jobLabel ? service.metadata.labels?.[monitor.spec.jobLabel] : service.metadata.name;
    assert.deepEqual([...jobs], [job]);
  });

  test('the Ingress routes to the hub Service and holds WebSockets longer than the heartbeat', () => {
    const ingress = find('Ingress', 'airwaves');
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    const service = find('Service', backend.name);
    assert.ok(service.spec.ports.some((p: { name: string }) => p.name === backend.port.name));
    const heartbeatSeconds = 25; // src/hub/hub.ts HEARTBEAT_MS
    for (const key of ['proxy-read-timeout', 'proxy-send-timeout']) {
      assert.ok(Number(ingress.metadata.annotations?.[`nginx.ingress.kubernetes.io/${key}`]) > 2 * heartbeatSeconds, key);
    }
  });

  test('external services give Redis and PostgreSQL the names the configuration uses', () => {
    const redisHost = new URL(configMap.data.AIRWAVES_REDIS_URL).hostname;
    const dbHost = new URL(secret.stringData['database-url']).hostname;
    for (const host of [redisHost, dbHost]) assert.equal(find('Service', host).spec.type, 'ExternalName');
  });
});
