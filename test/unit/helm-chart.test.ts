import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, parseDocument, isMap, type YAMLMap } from 'yaml';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { configSchema, targetSchema } from '../../src/core/config/config-schema.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { helmBinary, helmSkipReason } from '../helpers/helm.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHART = path.join(ROOT, 'deploy/helm/pgquerylens');
const CI_VALUES = ['nri', 'otel', 'hybrid', 'sharded'].map((n) => `ci/${n}-values.yaml`);
const RELEASE = 'lens';
const FULLNAME = `${RELEASE}-pgquerylens`;
const SECRET_DIR = '/var/run/secrets/pgquerylens';

// Fetched once per machine (about 10 s), then cached under node_modules/.cache.
const helm = await helmBinary();

/** What every rendered object has; the kind's own shape comes from kubernetes-models. */
interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
}

/** The Prometheus Operator CRD's fields the chart sets (not in kubernetes-models). */
interface ServiceMonitor extends Rendered {
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: unknown;
    endpoints: unknown[];
  };
}

/** The collector configuration as rendered; the assertions say which parts they expect. */
interface RenderedConfig {
  mode: string;
  targets: Record<string, unknown>[];
  [section: string]: unknown;
}

interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runHelm(args: readonly string[]): Promise<HelmResult> {
  return new Promise((resolve) => {
    execFile(
      helm!,
      [...args],
      { cwd: CHART, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `helm template` arguments: values files first, then `--set`s (which win). */
function templateArgs(files: readonly string[], sets: readonly string[]): string[] {
  return [
    'template',
    RELEASE,
    '.',
    '--namespace',
    'monitoring',
    ...files.flatMap((f) => ['-f', f]),
    ...sets.flatMap((s) => ['--set', s]),
  ];
}

async function render(files: readonly string[], sets: readonly string[] = []): Promise<Rendered[]> {
  const result = await runHelm(templateArgs(files, sets));
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML: ${doc.errors[0]!.message}`);
      return doc.toJS() as Rendered | null;
    })
    .filter((doc): doc is Rendered => doc !== null);
}

/** The error helm prints for values that must not render. */
async function renderError(
  files: readonly string[],
  sets: readonly string[] = [],
): Promise<string> {
  const result = await runHelm(templateArgs(files, sets));
  expect(result.code, `rendered although it should not:\n${result.stdout}`).not.toBe(0);
  return result.stderr;
}

/** The one object of `kind`, typed as its kubernetes-models interface says. */
function only<T>(docs: readonly Rendered[], kind: string): T {
  const found = docs.filter((d) => d.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0] as T;
}

function statefulSet(docs: readonly Rendered[]): IStatefulSet & Rendered {
  return only<IStatefulSet & Rendered>(docs, 'StatefulSet');
}

function podSpec(docs: readonly Rendered[]): IPodSpec {
  return statefulSet(docs).spec!.template.spec!;
}

function container(docs: readonly Rendered[]): IContainer {
  return podSpec(docs).containers[0]!;
}

function envOf(docs: readonly Rendered[], name: string): IEnvVar | undefined {
  return container(docs).env?.find((e) => e.name === name);
}

function configTextOf(docs: readonly Rendered[]): string {
  return only<IConfigMap>(docs, 'ConfigMap').data!['config.yaml']!;
}

function configOf(docs: readonly Rendered[]): RenderedConfig {
  return parse(configTextOf(docs)) as RenderedConfig;
}

function annotationsOf(docs: readonly Rendered[]): Record<string, string> {
  return statefulSet(docs).spec!.template.metadata!.annotations!;
}

/** Every object through the kubernetes-models schema of its kind (the API server's checks). */
async function validateAgainstKubernetes(docs: readonly Rendered[]): Promise<void> {
  for (const doc of docs) {
    expect(doc.metadata.name, `${doc.kind} has a name`).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(doc.metadata.name.length).toBeLessThanOrEqual(63);
    if (doc.kind === 'ServiceMonitor') {
      // A CRD, not in kubernetes-models: its shape is asserted in its own test.
      expect(doc.apiVersion).toBe('monitoring.coreos.com/v1');
      continue;
    }
    const module = (await import(`kubernetes-models/${doc.apiVersion}/${doc.kind}`)) as Record<
      string,
      new (data: unknown) => { validate(): void }
    >;
    const Model = module[doc.kind];
    expect(Model, `kubernetes-models has ${doc.apiVersion} ${doc.kind}`).toBeDefined();
    expect(() => new Model!(doc).validate(), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
  }
}

let scratch: string;

/**
 * `pgquerylens validate --config` on the rendered ConfigMap, in the environment the pod would
 * have: the container's env (secretKeyRefs resolved from the chart's Secret, or a stand-in for
 * an existing Secret the cluster would hold), the pod name of `ordinal`, and the projected
 * secret files written to a scratch directory the config's paths are pointed at.
 */
async function validateInPodEnvironment(
  docs: readonly Rendered[],
  options: { ordinal?: number; dropEnv?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = await mkdtemp(path.join(scratch, 'pod-'));
  const chartSecret = docs.find((d) => d.kind === 'Secret') as (ISecret & Rendered) | undefined;
  const secretValue = (name: string, key: string): string => {
    if (chartSecret !== undefined && chartSecret.metadata.name === name) {
      const encoded = chartSecret.data?.[key];
      expect(encoded, `chart Secret has key ${key}`).toBeDefined();
      return Buffer.from(encoded!, 'base64').toString('utf8');
    }
    return `stand-in-for-${name}-${key}`;
  };
  // What the cluster's existing Secrets would hold, in the format their consumer expects.
  const standIn = (envName: string, name: string, key: string): string =>
    envName === 'OTEL_EXPORTER_OTLP_HEADERS'
      ? `api-key=stand-in-for-${name}-${key}`
      : secretValue(name, key);
  const env: Record<string, string> = {};
  for (const entry of container(docs).env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef;
    if (entry.name === options.dropEnv) continue;
    if (entry.value !== undefined) env[entry.name] = entry.value;
    else if (entry.valueFrom?.fieldRef?.fieldPath === 'metadata.name') {
      env[entry.name] = `${FULLNAME}-${options.ordinal ?? 0}`;
    } else if (ref !== undefined) {
      env[entry.name] = standIn(entry.name, ref.name!, ref.key);
    } else throw new Error(`env ${entry.name}: unexpected source`);
  }
  // The validator needs no heap cap, and the path must be the scratch copy, not the pod's.
  delete env.NODE_OPTIONS;
  delete env.PGQUERYLENS_CONFIG;
  const secretsDir = path.join(dir, 'secrets');
  await mkdir(secretsDir);
  for (const volume of podSpec(docs).volumes ?? []) {
    for (const source of volume.projected?.sources ?? []) {
      for (const item of source.secret?.items ?? []) {
        await writeFile(
          path.join(secretsDir, item.path),
          secretValue(source.secret!.name!, item.key),
        );
      }
    }
  }
  const configFile = path.join(dir, 'config.yaml');
  await writeFile(configFile, configTextOf(docs).replaceAll(SECRET_DIR, secretsDir));
  return runCli(['validate', '--config', configFile], cleanEnv(env));
}

describe.skipIf(helm === undefined)(
  helm === undefined ? `helm chart (skipped: ${helmSkipReason()})` : 'helm chart',
  () => {
    beforeAll(async () => {
      scratch = await mkdtemp(path.join(tmpdir(), 'pgquerylens-helm-'));
    });
    afterAll(async () => {
      await rm(scratch, { recursive: true, force: true });
    });

    it('Chart.yaml is a v2 chart whose appVersion is the package version, the default tag', async () => {
      const chart = parse(await readFile(path.join(CHART, 'Chart.yaml'), 'utf8')) as {
        apiVersion: string;
        appVersion: string;
      };
      const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };
      expect(chart.apiVersion).toBe('v2');
      expect(chart.appVersion).toBe(pkg.version);
      const docs = await render(['ci/otel-values.yaml']);
      expect(container(docs).image).toBe(`ghcr.io/pgquerylens/pgquerylens:${pkg.version}`);
      expect(container(docs).args).toEqual(['run']);
    });

    it('values.yaml comments every key', async () => {
      const doc = parseDocument(await readFile(path.join(CHART, 'values.yaml'), 'utf8'));
      const uncommented: string[] = [];
      const walk = (map: YAMLMap, prefix: string): void => {
        map.items.forEach((pair, i) => {
          const key = `${prefix}${String((pair.key as { value: unknown }).value)}`;
          const comment =
            (pair.key as { commentBefore?: string }).commentBefore ??
            (i === 0 ? map.commentBefore : undefined);
          // As in helm-docs, a comment on a section covers it (resources, security contexts:
          // Kubernetes' own fields); a bare section header is explained by its keys' comments.
          if ((comment ?? '').trim() !== '') return;
          if (isMap(pair.value) && pair.value.items.length > 0) walk(pair.value, `${key}.`);
          else uncommented.push(key);
        });
      };
      walk(doc.contents as YAMLMap, '');
      expect(uncommented).toEqual([]);
    });

    it('the values schema allows every key of values.yaml and only keys the collector knows', async () => {
      interface Schema {
        additionalProperties: boolean;
        properties: Record<string, { enum?: string[]; properties?: Record<string, unknown> }> & {
          targets: { items: { properties: Record<string, unknown> } };
        };
      }
      const schema = JSON.parse(
        await readFile(path.join(CHART, 'values.schema.json'), 'utf8'),
      ) as Schema;
      const values = parse(await readFile(path.join(CHART, 'values.yaml'), 'utf8')) as object;
      expect(schema.additionalProperties).toBe(false);
      expect(schema.properties.mode?.enum).toEqual(['nri', 'otel', 'hybrid']);
      expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(Object.keys(values)));
      // Target and connection keys go to the collector unchanged: each must be one it accepts.
      const targetKeys = Object.keys(schema.properties.targets.items.properties).filter(
        (k) => k !== 'existingSecret',
      );
      expect(Object.keys(targetSchema.shape)).toEqual(expect.arrayContaining(targetKeys));
      expect(Object.keys(configSchema.shape.connection.unwrap().shape)).toEqual(
        expect.arrayContaining(Object.keys(schema.properties.connection?.properties ?? {})),
      );
      // No `url`: the one way a target's password could end up in the ConfigMap.
      expect(targetKeys).not.toContain('url');
    });

    describe.each(CI_VALUES)('%s', (file) => {
      it('passes helm lint --strict', async () => {
        const result = await runHelm(['lint', '--strict', '.', '-f', file]);
        expect(result.stderr + result.stdout).toContain('0 chart(s) failed');
        expect(result.code).toBe(0);
      });

      it('renders objects valid against the Kubernetes schemas', async () => {
        const docs = await render([file]);
        expect(docs.map((d) => d.kind)).toEqual(
          expect.arrayContaining(['ConfigMap', 'Service', 'ServiceAccount', 'StatefulSet', 'Pod']),
        );
        await validateAgainstKubernetes(docs);
      });

      it('renders a ConfigMap that pgquerylens validate accepts in the pod environment', async () => {
        const docs = await render([file]);
        const { mode } = parse(await readFile(path.join(CHART, file), 'utf8')) as { mode: string };
        const result = await validateInPodEnvironment(docs, { ordinal: 0 });
        expect(result.stderr).toBe('');
        expect(result.stdout).toContain('configuration is valid');
        const shown = parse(result.stdout.slice(result.stdout.indexOf('\n') + 1)) as {
          mode: string;
        };
        expect(shown.mode).toBe(mode);
        expect(result.code).toBe(0);
      });
    });

    it('the schema rejects an unknown mode, naming the field and the choices', async () => {
      const error = await renderError(['ci/otel-values.yaml'], ['mode=bogus']);
      expect(error).toContain('/mode');
      expect(error).toMatch(/'nri', 'otel', 'hybrid'/);
    });

    it('the schema rejects an unknown top-level key and an unknown target key', async () => {
      expect(await renderError(['ci/otel-values.yaml'], ['replicas=3'])).toMatch(
        /additional propert.*'replicas'/,
      );
      // A URL could carry a password into the ConfigMap; targets have host/port instead.
      expect(
        await renderError(['ci/otel-values.yaml'], ['targets[0].url=postgres://u:p@h/db']),
      ).toMatch(/\/targets\/0.*additional propert.*'url'/);
    });

    it('the schema refuses a datastore URL with a password in it', async () => {
      const error = await renderError(
        ['ci/hybrid-values.yaml'],
        ['datastore.url=postgres://pgquerylens:hunter2@history:5432/pgquerylens'],
      );
      expect(error).toContain('/datastore/url');
    });

    it('a password in values goes into the chart Secret, and only there', async () => {
      const docs = await render(['ci/otel-values.yaml']);
      const secret = only<ISecret & Rendered>(docs, 'Secret');
      const encoded = secret.data?.password;
      expect(secret.metadata.name).toBe(FULLNAME);
      expect(Buffer.from(encoded!, 'base64').toString()).toBe('ci-only-password');
      expect(envOf(docs, 'PGQUERYLENS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
        name: FULLNAME,
        key: 'password',
      });
      const elsewhere = docs.filter((d) => d.kind !== 'Secret').map((d) => JSON.stringify(d));
      expect(elsewhere.join('\n')).not.toContain('ci-only-password');
      expect(elsewhere.join('\n')).not.toContain(encoded);
    });

    it('an existing Secret is referenced by name and key, and no Secret is rendered', async () => {
      const docs = await render(['ci/sharded-values.yaml']);
      expect(docs.filter((d) => d.kind === 'Secret')).toEqual([]);
      expect(envOf(docs, 'PGQUERYLENS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
        name: 'fleet-monitoring',
        key: 'password',
      });
      expect(configTextOf(docs)).not.toMatch(/password/i);
    });

    it("a target's own Secret reaches it as passwordEnv, the default stays for the others", async () => {
      const docs = await render(['ci/otel-values.yaml']);
      expect(envOf(docs, 'PGQUERYLENS_TARGET_1_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
        name: 'billing-db-monitoring',
        key: 'password',
      });
      const { targets } = configOf(docs);
      expect(targets[0]).not.toHaveProperty('passwordEnv');
      expect(targets[1]).toMatchObject({
        name: 'billing',
        passwordEnv: 'PGQUERYLENS_TARGET_1_PASSWORD',
      });
      // The env var is what makes it valid: without it the collector refuses to start.
      const missing = await validateInPodEnvironment(docs, {
        dropEnv: 'PGQUERYLENS_TARGET_1_PASSWORD',
      });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('PGQUERYLENS_TARGET_1_PASSWORD is not set');
    });

    it("a target's own password in values lands in the chart Secret under its own key", async () => {
      const docs = await render(['ci/hybrid-values.yaml']);
      const secret = only<ISecret>(docs, 'Secret');
      expect(Object.keys(secret.data ?? {})).toEqual(['target-1-password']);
      expect(envOf(docs, 'PGQUERYLENS_TARGET_1_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
        name: FULLNAME,
        key: 'target-1-password',
      });
    });

    it('the datastore password and server secret are files projected from their Secrets', async () => {
      const docs = await render(['ci/hybrid-values.yaml']);
      expect(configOf(docs).datastore).toEqual({
        url: 'postgres://pgquerylens@history-db.databases.svc:5432/pgquerylens',
        passwordFile: `${SECRET_DIR}/datastore-password`,
        secretFile: `${SECRET_DIR}/server-secret`,
        maxConnections: 10,
      });
      const secrets = podSpec(docs).volumes?.find((v) => v.name === 'secrets');
      expect(secrets?.projected?.sources).toEqual([
        {
          secret: { name: 'history-db', items: [{ key: 'password', path: 'datastore-password' }] },
        },
        {
          secret: {
            name: 'pgquerylens-server-secret',
            items: [{ key: 'secret', path: 'server-secret' }],
          },
        },
      ]);
      expect(container(docs).volumeMounts).toContainEqual({
        name: 'secrets',
        mountPath: SECRET_DIR,
        readOnly: true,
      });
    });

    it('no password source at all fails with the required message', async () => {
      const error = await renderError(['ci/sharded-values.yaml'], ['auth.existingSecret.name=']);
      expect(error).toContain('targets[0] (fleet-01) has no password');
      expect(error).toContain('auth.existingSecret.name');
      const datastore = await renderError(
        ['ci/hybrid-values.yaml'],
        ['datastore.existingSecret.name='],
      );
      expect(datastore).toContain('datastore.enabled needs a password');
    });

    it('a password in values and an existing Secret together fail', async () => {
      expect(await renderError(['ci/sharded-values.yaml'], ['auth.password=also-this'])).toContain(
        'auth: set either password or existingSecret.name, not both',
      );
      expect(
        await renderError(['ci/otel-values.yaml'], ['targets[1].password=also-this']),
      ).toContain('targets[1] (billing): set either password or existingSecret.name, not both');
    });

    it('invalid combinations fail with a clear message', async () => {
      expect(await renderError([])).toContain('[ERROR] no targets');
      expect(await renderError(['ci/otel-values.yaml'], ['otlp.endpoint='])).toContain(
        'set otlp.endpoint',
      );
      expect(await renderError(['ci/otel-values.yaml'], ['otlp.enabled=false'])).toContain(
        'exports nothing',
      );
      expect(
        await renderError(['ci/hybrid-values.yaml'], ['otlp.headers.api-key=plain']),
      ).toContain('set either headers or headersSecret.name');
      expect(await renderError(['ci/sharded-values.yaml'], ['targets[1].name=fleet-01'])).toContain(
        'duplicate target name "fleet-01"',
      );
    });

    it('Prometheus pull alone is a valid otel setup', async () => {
      const docs = await render(
        ['ci/otel-values.yaml'],
        ['otlp.enabled=false', 'telemetry.prometheus=true'],
      );
      const config = configOf(docs);
      expect(config.otlp).toEqual({ enabled: false });
      expect(config.telemetry).toMatchObject({ enabled: true, port: 9464, prometheus: true });
      expect((await validateInPodEnvironment(docs)).code).toBe(0);
    });

    it('checksum/config changes with the configuration and only with it', async () => {
      const base = annotationsOf(await render(['ci/otel-values.yaml']));
      expect(base['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
      const again = annotationsOf(await render(['ci/otel-values.yaml']));
      expect(again['checksum/config']).toBe(base['checksum/config']);
      const unrelated = annotationsOf(
        await render(
          ['ci/otel-values.yaml'],
          ['podAnnotations.team=dba', 'resources.limits.memory=1Gi', 'replicaCount=2'],
        ),
      );
      expect(unrelated['checksum/config']).toBe(base['checksum/config']);
      for (const change of ['interval=60s', 'targets[0].port=5439', 'otlp.protocol=http/json']) {
        const changed = annotationsOf(await render(['ci/otel-values.yaml'], [change]));
        expect(changed['checksum/config'], change).not.toBe(base['checksum/config']);
      }
      // A chart-managed password is not in the config, but must roll the pods as well.
      const rotated = annotationsOf(await render(['ci/otel-values.yaml'], ['auth.password=new']));
      expect(rotated['checksum/config']).toBe(base['checksum/config']);
      expect(rotated['checksum/secret']).not.toBe(base['checksum/secret']);
    });

    it('runs hardened: non-root, read-only root, no capabilities, RuntimeDefault, no token', async () => {
      const docs = await render(['ci/otel-values.yaml']);
      const pod = podSpec(docs);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(only<IServiceAccount>(docs, 'ServiceAccount').automountServiceAccountToken).toBe(
        false,
      );
      expect(container(docs).securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      // A read-only root needs somewhere to write: /tmp only.
      expect(container(docs).volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } });
      expect(envOf(docs, 'PGQUERYLENS_CONFIG')?.value).toBe('/etc/pgquerylens/config.yaml');
      expect(container(docs).volumeMounts).toContainEqual({
        name: 'config',
        mountPath: '/etc/pgquerylens',
        readOnly: true,
      });
    });

    it('probes /healthz and /readyz on the telemetry port the Service exposes', async () => {
      const docs = await render(['ci/otel-values.yaml']);
      const main = container(docs);
      expect(main.ports).toEqual([{ name: 'telemetry', containerPort: 9464, protocol: 'TCP' }]);
      expect(main.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'telemetry' });
      expect(main.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'telemetry' });
      const service = only<IService & Rendered>(docs, 'Service');
      expect(service.spec?.clusterIP).toBe('None');
      expect(service.spec?.ports).toEqual([
        { name: 'telemetry', port: 9464, targetPort: 'telemetry', protocol: 'TCP' },
      ]);
      const set = statefulSet(docs);
      expect(set.spec?.serviceName).toBe(service.metadata.name);
      expect(service.spec?.selector).toEqual(set.spec?.selector.matchLabels);
      expect(set.spec?.template.metadata?.labels).toMatchObject(service.spec?.selector ?? {});
    });

    it('the sharded values run 3 replicas, each told the shard count and its pod name', async () => {
      const docs = await render(['ci/sharded-values.yaml']);
      expect(statefulSet(docs).spec?.replicas).toBe(3);
      expect(envOf(docs, 'PGQUERYLENS_SHARDS')).toEqual({ name: 'PGQUERYLENS_SHARDS', value: '3' });
      expect(envOf(docs, 'POD_NAME')).toEqual({
        name: 'POD_NAME',
        valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
      });
      // Every ordinal of the StatefulSet is one the collector accepts.
      for (const ordinal of [0, 1, 2]) {
        const result = await validateInPodEnvironment(docs, { ordinal });
        expect(result.stderr, `ordinal ${ordinal}`).toBe('');
        expect(result.code).toBe(0);
      }
    });

    it('caps the Node heap at heapPercent of the memory limit', async () => {
      const heap = async (sets: string[]): Promise<string | undefined> =>
        envOf(await render(['ci/otel-values.yaml'], sets), 'NODE_OPTIONS')?.value;
      expect(await heap([])).toBe('--max-old-space-size=384'); // 512Mi
      expect(await heap(['resources.limits.memory=1Gi'])).toBe('--max-old-space-size=768');
      expect(await heap(['resources.limits.memory=1G'])).toBe('--max-old-space-size=715');
      expect(await heap(['resources.limits.memory=600M'])).toBe('--max-old-space-size=429');
      expect(await heap(['resources.limits.memory=1536Mi', 'heapPercent=50'])).toBe(
        '--max-old-space-size=768',
      );
      expect(await heap(['resources.limits=null'])).toBeUndefined();
      expect(
        await renderError(['ci/otel-values.yaml'], ['resources.limits.memory=lots']),
      ).toContain('resources.limits.memory "lots"');
    });

    it('renders no PodDisruptionBudget, ServiceMonitor or NetworkPolicy by default', async () => {
      const docs = await render(
        [],
        [
          'targets[0].name=db',
          'targets[0].host=db',
          'auth.existingSecret.name=db',
          'otlp.endpoint=http://collector:4318/v1/metrics',
        ],
      );
      const kinds = docs.map((d) => d.kind);
      expect(kinds).not.toContain('PodDisruptionBudget');
      expect(kinds).not.toContain('ServiceMonitor');
      expect(kinds).not.toContain('NetworkPolicy');
      expect(statefulSet(docs).spec?.replicas).toBe(1);
      await validateAgainstKubernetes(docs);
      expect((await validateInPodEnvironment(docs)).code).toBe(0);
    });

    it('the PodDisruptionBudget, when enabled, lets one shard go at a time', async () => {
      const docs = await render(['ci/sharded-values.yaml']);
      const pdb = only<IPodDisruptionBudget>(docs, 'PodDisruptionBudget');
      expect(pdb.spec).toEqual({
        maxUnavailable: 1,
        selector: statefulSet(docs).spec?.selector,
      });
    });

    it('the ServiceMonitor scrapes /metrics on the telemetry port of every pod', async () => {
      const docs = await render(['ci/otel-values.yaml']);
      const monitor = only<ServiceMonitor>(docs, 'ServiceMonitor');
      expect(monitor.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
      expect(monitor.spec.selector.matchLabels).toEqual(
        only<IService>(docs, 'Service').spec?.selector,
      );
      expect(monitor.spec.namespaceSelector).toEqual({ matchNames: ['monitoring'] });
      expect(monitor.spec.endpoints).toEqual([
        { port: 'telemetry', path: '/metrics', interval: '30s', scrapeTimeout: '10s' },
      ]);
    });

    it('the NetworkPolicy allows egress to PostgreSQL, OTLP, the datastore and DNS only', async () => {
      const ports = (rule: { ports?: { port?: number | string; protocol?: string }[] }): string[] =>
        (rule.ports ?? []).map((p) => `${p.protocol}/${p.port}`);
      const otel = only<INetworkPolicy>(await render(['ci/otel-values.yaml']), 'NetworkPolicy');
      expect(otel.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(otel.spec?.egress?.map(ports)).toEqual([
        ['UDP/53', 'TCP/53'],
        ['TCP/5432', 'TCP/5433'],
        ['TCP/4318'],
      ]);
      expect(otel.spec?.egress?.[1]?.to).toEqual([
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'databases' } } },
      ]);
      expect(otel.spec?.ingress).toEqual([{ ports: [{ port: 'telemetry', protocol: 'TCP' }] }]);

      const hybridDocs = await render(
        ['ci/hybrid-values.yaml'],
        [
          'networkPolicy.enabled=true',
          'networkPolicy.ingressPeers[0].namespaceSelector.matchLabels.name=prometheus',
        ],
      );
      const hybrid = only<INetworkPolicy>(hybridDocs, 'NetworkPolicy');
      expect(hybrid.spec?.egress?.map(ports)).toEqual([
        ['UDP/53', 'TCP/53'],
        ['TCP/5432', 'TCP/6432'], // 6432: the PgBouncer's default port
        ['TCP/4317'],
        ['TCP/5432'], // the datastore
      ]);
      // Restricted ingress still lets the chart's own test pod in.
      expect(hybrid.spec?.ingress?.[0]?.from).toContainEqual({
        podSelector: {
          matchLabels: {
            'app.kubernetes.io/instance': RELEASE,
            'app.kubernetes.io/component': 'test',
          },
        },
      });
      await validateAgainstKubernetes(hybridDocs);
    });

    it('mode nri runs the collector as a daemon; otel carries no NRI section', async () => {
      const nri = configOf(await render(['ci/nri-values.yaml']));
      expect(nri).toMatchObject({ mode: 'nri', nri: { daemon: true, protocol: 3 } });
      expect(nri).not.toHaveProperty('otlp');
      expect(configOf(await render(['ci/otel-values.yaml']))).not.toHaveProperty('nri');
    });

    it('NOTES.txt explains the release, and for mode nri points at the agent', async () => {
      const notes = async (file: string): Promise<string> => {
        const result = await runHelm([
          'install',
          RELEASE,
          '.',
          '--dry-run=client',
          '--namespace',
          'monitoring',
          '-f',
          file,
        ]);
        expect(result.code, result.stderr).toBe(0);
        return result.stdout.slice(result.stdout.indexOf('NOTES:'));
      };
      expect(await notes('ci/nri-values.yaml')).toContain('infrastructure agent');
      expect(await notes('ci/sharded-values.yaml')).toContain(
        '3 replicas share the 6 configured target(s)',
      );
      const otel = await notes('ci/otel-values.yaml');
      expect(otel).not.toContain('infrastructure agent');
      expect(otel).toContain(`helm test ${RELEASE} -n monitoring`);
    });

    it('the helm test hook calls /readyz from a hardened pod', async () => {
      const docs = await render(['ci/otel-values.yaml'], ['tests.image=registry.local/busybox:1']);
      const pod = only<IPod & Rendered>(docs, 'Pod');
      expect(pod.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'test' });
      const probe = pod.spec!.containers[0]!;
      expect(probe.image).toBe('registry.local/busybox:1');
      expect(probe.command?.at(-1)).toBe(`http://${FULLNAME}.monitoring.svc:9464/readyz`);
      expect(pod.spec?.automountServiceAccountToken).toBe(false);
      expect(pod.spec?.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(probe.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      // Not selected by the collector's Service, PodDisruptionBudget or NetworkPolicy.
      const selector = statefulSet(docs).spec?.selector.matchLabels ?? {};
      expect(Object.entries(selector).every(([k, v]) => pod.metadata.labels?.[k] === v)).toBe(
        false,
      );
    });
  },
);
