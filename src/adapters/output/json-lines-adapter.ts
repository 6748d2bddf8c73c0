import type { ExportAdapter } from '../../core/export-adapter.js';
import type { UnifiedMetrics } from '../../core/model/unified-metrics.js';
import { LineWriter } from './line-writer.js';

/** One UnifiedMetrics batch per line, for debugging and piping into jq or a file. */
export class JsonLinesAdapter implements ExportAdapter {
  readonly name = 'json';
  readonly #writer: LineWriter;

  constructor(path: string) {
    this.#writer = new LineWriter(path);
  }

  async export(batch: UnifiedMetrics, signal: AbortSignal): Promise<void> {
    await this.#writer.write(JSON.stringify(batch), signal);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  async shutdown(): Promise<void> {
    await this.#writer.close();
  }
}
