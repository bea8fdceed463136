import { describe, expect, it } from 'vitest';
import { checkOrientation, findEnsemblVersionConflicts, geneLikeness } from '../../src/io/checks.js';

describe('geneLikeness', () => {
  it('Ensembl and probe ids are strong', () => {
    expect(geneLikeness(['ENSG00000141510', 'ENSMUSG00000059552.4', '1007_s_at', 'AFFX-BioB-5_at']).strong).toBe(1);
  });

  it('symbols are weak', () => {
    expect(geneLikeness(['TP53', 'HLA-DRB1', 'RP11-782C8.1'])).toEqual({ strong: 0, symbol: 1 });
  });

  it('barcodes are neither', () => {
    expect(geneLikeness(['AAACCCAAGGAGAGTA-1', 'EWS.T1', 'patient_7'])).toEqual({ strong: 0, symbol: 0 });
    expect(geneLikeness(['S00001', 'S00002', 'PT042'])).toEqual({ strong: 0, symbol: 0 });
  });
});

describe('checkOrientation', () => {
  it('short sample codes with few samples are not flagged', () => {
    expect(checkOrientation(['A0FJ', 'A13E', 'A0G0'], ['RTN2', 'NDRG2'], false).suspicious).toBe(false);
  });

  it('many symbol-like samples and few genes are flagged', () => {
    const samples = Array.from({ length: 200 }, (_, i) => `GENE${i}`);
    expect(checkOrientation(samples, ['GSM101', 'GSM102', 'GSM103'], false).suspicious).toBe(true);
  });
});

describe('findEnsemblVersionConflicts', () => {
  it('same id with and without version', () => {
    const { conflicts } = findEnsemblVersionConflicts(['ENSG00000000003', 'ENSG00000000003.14', 'ENSG00000000005.6']);
    expect(conflicts).toEqual([{ base: 'ENSG00000000003', ids: ['ENSG00000000003', 'ENSG00000000003.14'] }]);
  });

  it('two versions of one id', () => {
    expect(findEnsemblVersionConflicts(['ENSG00000000003.13', 'ENSG00000000003.14']).conflicts).toHaveLength(1);
  });

  it('counts versioned ids', () => {
    expect(findEnsemblVersionConflicts(['ENSG00000000003.13', 'ENSG00000000005', 'TP53']).versioned).toBe(1);
  });
});
