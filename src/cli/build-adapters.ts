import type { ResolvedConfig } from '../core/config/resolved-config.js';
import type { ExportAdapter } from '../core/export-adapter.js';
import type { Logger } from '../core/logger.js';
import { JsonLinesAdapter } from '../adapters/output/json-lines-adapter.js';
import { SummaryAdapter } from '../adapters/output/summary-adapter.js';

/**
 * The adapters a run exports to. The mode's own adapters (NRI, OTLP) arrive with their issues;
 * until then a mode without an output falls back to JSON lines on stdout and says so.
 */
export function buildAdapters(config: ResolvedConfig, logger: Logger): ExportAdapter[] {
  const adapters: ExportAdapter[] = [];
  const output = config.output;
  if (output !== undefined) {
    adapters.push(
      output.format === 'summary'
        ? new SummaryAdapter(output.path)
        : new JsonLinesAdapter(output.path),
    );
  }
  if (adapters.length === 0) {
    logger.warn(
      `the ${config.mode} mode has no exporter of its own yet; writing JSON lines to stdout`,
      {
        mode: config.mode,
      },
    );
    adapters.push(new JsonLinesAdapter('-'));
  }
  return adapters;
}
