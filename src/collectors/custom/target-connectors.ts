import type { ResolvedTarget } from '../../core/config/resolved-config.js';
import type { TargetConnector } from '../../core/target-connector.js';

/** The connector of a target, by target name; undefined when the target is unknown. */
export type ConnectorLookup = (target: string) => TargetConnector | undefined;

/**
 * Remembers the connector the application opened for each target, so a collector that must
 * reach another database than its session's (custom queries with `database:`) can open a
 * connection with the target's credentials without the collector knowing any of them.
 */
export class TargetConnectors {
  readonly #byName = new Map<string, TargetConnector>();

  /**
   * Wraps the application's `connect`: each connector it returns is remembered under its
   * target's name (a replaced target's new connector replaces the old one).
   */
  track<C extends TargetConnector>(
    connect: (target: ResolvedTarget) => C,
  ): (target: ResolvedTarget) => C {
    return (target) => {
      const connector = connect(target);
      this.#byName.set(target.name, connector);
      return connector;
    };
  }

  /** The lookup collectors take. */
  readonly lookup: ConnectorLookup = (target) => this.#byName.get(target);
}
