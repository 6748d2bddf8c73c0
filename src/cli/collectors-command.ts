import { BUILTIN_PROBES } from '../collectors/builtin-collectors.js';
import type { ProbeCollector } from '../collectors/probes/define-probe.js';
import { formatDurationMs } from '../core/duration.js';
import { EXIT_OK } from './exit-codes.js';

/** One probe as documented: the README table and `pgquerylens collectors` print this. */
export interface ProbeDoc {
  readonly name: string;
  readonly scope: string;
  /** `base` when it follows the configured interval. */
  readonly interval: string;
  readonly retentionDays: number;
  readonly enabledByDefault: boolean;
  readonly minVersion: string;
  readonly requires: string;
  readonly changeTracked: boolean;
  readonly description: string;
}

export function probeDoc(probe: ProbeCollector): ProbeDoc {
  const spec = probe.spec;
  const req = spec.requires;
  return {
    name: probe.name,
    scope: probe.scope,
    interval: spec.intervalMs === undefined ? 'base' : formatDurationMs(spec.intervalMs),
    retentionDays: spec.retentionDays,
    enabledByDefault: spec.enabledByDefault,
    minVersion:
      spec.targetKind === 'pgbouncer'
        ? '—'
        : req?.minMajor === undefined
          ? '12'
          : String(req.minMajor),
    requires: [
      req?.extension === undefined
        ? ''
        : `${req.extension}${req.extensionVersion === undefined ? '' : ` ≥ ${req.extensionVersion}`}`,
      req?.role ?? '',
      spec.targetKind === 'pgbouncer' ? 'PgBouncer target' : '',
    ]
      .filter((s) => s !== '')
      .join(', '),
    changeTracked: spec.changeTracked ?? false,
    description: probe.description,
  };
}

/** The probe table as Markdown, for the README. */
export function probeTableMarkdown(): string {
  const lines = [
    '| Probe | Scope | Interval | Retention | PG | Needs | Default | Description |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const doc of BUILTIN_PROBES.map(probeDoc)) {
    lines.push(
      `| \`${doc.name}\` | ${doc.scope} | ${doc.interval} | ${doc.retentionDays} d${doc.changeTracked ? ' (on change)' : ''} | ${doc.minVersion === '—' ? '—' : `${doc.minVersion}+`} | ${doc.requires === '' ? '—' : doc.requires} | ${doc.enabledByDefault ? 'on' : 'off'} | ${doc.description} |`,
    );
  }
  return lines.join('\n');
}

/** `pgquerylens collectors`: every probe with scope, interval, retention and requirements. */
export function collectorsCommand(format: 'text' | 'json' | 'markdown'): number {
  const docs = BUILTIN_PROBES.map(probeDoc);
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(docs, null, 2)}\n`);
  } else if (format === 'markdown') {
    process.stdout.write(`${probeTableMarkdown()}\n`);
  } else {
    const width = Math.max(...docs.map((d) => d.name.length));
    for (const d of docs) {
      process.stdout.write(
        `${d.name.padEnd(width)}  ${d.scope.padEnd(8)}  ${d.interval.padEnd(5)}  ${String(d.retentionDays).padStart(3)}d  PG${d.minVersion}+  ${d.enabledByDefault ? 'on ' : 'off'}  ${d.description}\n`,
      );
    }
  }
  return EXIT_OK;
}
