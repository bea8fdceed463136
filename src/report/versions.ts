import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Libraries that draw the report's plots; their versions change the SVG output. */
export const PLOT_LIBRARIES = ['vega', 'vega-lite'] as const;

/**
 * Reads an installed package's version by resolving its entry point and walking up to its
 * package.json, because packages with an `exports` map do not expose `<name>/package.json`.
 */
export function installedVersion(name: string): string {
  try {
    let dir = dirname(require.resolve(name));
    for (let depth = 0; depth < 6; depth++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name && pkg.version) return pkg.version;
      } catch {
        // no package.json at this level; keep walking up
      }
      dir = dirname(dir);
    }
  } catch {
    // not resolvable: reported below
  }
  return 'not installed';
}
