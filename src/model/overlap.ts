import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readFrame, readTable, tableToCsr } from '../io/arrow.js';
import type { CsrMatrix } from '../matrix/csr.js';
import { rowFingerprints } from '../matrix/fingerprint.js';
import { FILES, STAGE_DIRS } from '../run/layout.js';

/**
 * Flags the rows of `matrix` whose values equal those of a sample the run in `runDir`
 * ingested (and so trained on), over the genes both share, so that a subset of the training
 * genes is still recognized. Returns null when the run's ingest tables are gone.
 */
export function samplesSeenInTraining(runDir: string, matrix: CsrMatrix, geneIds: readonly string[]): boolean[] | null {
  const ingestDir = join(runDir, STAGE_DIRS.ingest);
  if (!existsSync(join(ingestDir, FILES.X)) || !existsSync(join(ingestDir, FILES.var))) return null;
  const trainingGenes = (readFrame(join(ingestDir, FILES.var)).gene_id as (string | null)[]).map(String);
  const newGenes = new Set(geneIds);
  const shared = new Set(trainingGenes.filter((id) => newGenes.has(id)));
  if (shared.size === 0) return new Array<boolean>(matrix.nRows).fill(false);
  const training = new Set(rowFingerprints(tableToCsr(readTable(join(ingestDir, FILES.X))), trainingGenes, shared));
  return rowFingerprints(matrix, geneIds, shared).map((fingerprint) => fingerprint !== null && training.has(fingerprint));
}
