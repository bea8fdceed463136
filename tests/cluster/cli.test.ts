import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addClusterOptions, clusterOptionsFrom } from '../../src/cli/cluster.js';

function parse(args: string[]): Record<string, unknown> {
  const command = addClusterOptions(new Command().exitOverride().configureOutput({ writeErr: () => {} }));
  command.parse(['node', 'cluster', ...args]);
  return command.opts();
}

describe('cluster options', () => {
  it('leaves unset options to the defaults', () => {
    expect(clusterOptionsFrom(parse([]))).toEqual({});
  });

  it('reads numbers and switches', () => {
    const options = clusterOptionsFrom(parse(['--k-max', '8', '--resolution', '0.5', '--no-markers', '--pca-components', '0']));
    expect(options).toEqual({ kMax: 8, resolution: 0.5, markers: false, pcaComponents: 0 });
  });

  it('reads an auto resolution and a resolution list', () => {
    const options = clusterOptionsFrom(parse(['--resolution', 'auto', '--resolutions', '0.25, 1,4']));
    expect(options).toEqual({ resolution: 'auto', resolutions: [0.25, 1, 4] });
  });

  it('rejects a resolution list with a zero', () => {
    expect(() => parse(['--resolutions', '0,1'])).toThrow(/comma-separated positive numbers/);
  });

  it('rejects a resolution that is neither auto nor positive', () => {
    expect(() => parse(['--resolution', 'high'])).toThrow(/number in \(0, Infinity\]/);
  });

  it('rejects a k below 2', () => {
    expect(() => parse(['--k-min', '1'])).toThrow(/integer in \[2/);
  });

  it('rejects a stability fraction above 1', () => {
    expect(() => parse(['--stability-fraction', '1.5'])).toThrow(/number in \(0, 1\]/);
  });
});
