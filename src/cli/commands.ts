import type { Command } from 'commander';
import { registerAudit } from './audit.js';
import { registerClassify } from './classify.js';
import { registerCluster } from './cluster.js';
import { registerDemo } from './demo.js';
import { registerEncode } from './encode.js';
import { registerExport } from './export.js';
import { registerIngest } from './ingest.js';
import { registerNormalize } from './normalize.js';
import { registerPredict } from './predict.js';
import { registerPrivacy } from './privacy.js';
import { registerReport } from './report.js';
import { registerRun } from './run.js';
import { registerTrain } from './train.js';

/** Adds every subcommand to the program, in the order `--help` lists them. */
export function registerCommands(program: Command): void {
  registerRun(program);
  registerIngest(program);
  registerNormalize(program);
  registerTrain(program);
  registerCluster(program);
  registerClassify(program);
  registerReport(program);
  registerExport(program);
  registerEncode(program);
  registerPredict(program);
  registerPrivacy(program);
  registerAudit(program);
  registerDemo(program);
}
