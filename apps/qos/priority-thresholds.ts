/**
 * The PIAS/Karuna demotion thresholds the controller reports (and will push to host agents): computed once
 * at start from the configured flow-size distribution, for the configured number of queues and load.
 * Reading the file is the only I/O; the optimizer is apps/qos/thresholds/.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../lib/config-error.js';
import { optimizeThresholds, parseCdf, ThresholdError, type ThresholdResult } from './thresholds/index.js';

/** What GET /api/v1/qos shows. `thresholdsBytes` are α_1 < … (a flow is demoted past α_i after α_i bytes). */
export interface PriorityThresholds {
  readonly cdfFile: string;
  readonly load: number;
  readonly queues: number;
  readonly thresholdsBytes: readonly number[];
  /** expected FCT ÷ the mean flow's transmission time, with the thresholds and with one FIFO queue */
  readonly meanSlowdown: number;
  readonly fifoMeanSlowdown: number;
}

/**
 * @param cfg `qos.priorityThresholds` of the config
 * @returns undefined when no distribution is configured
 * @throws ConfigError naming `qos.priorityThresholds.cdfFile` when the file cannot be read or is not a CDF
 */
export function computePriorityThresholds(
  cfg: { readonly cdfFile?: string | undefined; readonly load: number },
  queues: number,
  read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): PriorityThresholds | undefined {
  if (cfg.cdfFile === undefined) return undefined;
  const key = 'qos.priorityThresholds.cdfFile';
  let text: string;
  try {
    text = read(cfg.cdfFile);
  } catch (e) {
    throw new ConfigError('CONFIG_INVALID', key, `cannot read ${cfg.cdfFile}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let r: ThresholdResult;
  try {
    r = optimizeThresholds(parseCdf(text), { queues, load: cfg.load });
  } catch (e) {
    if (e instanceof ThresholdError) throw new ConfigError('CONFIG_INVALID', key, `${cfg.cdfFile}: ${e.message}`);
    throw e;
  }
  return {
    cdfFile: cfg.cdfFile, load: cfg.load, queues, thresholdsBytes: [...r.thresholds],
    meanSlowdown: r.objective / r.meanFlowBytes, fifoMeanSlowdown: r.fifoObjective / r.meanFlowBytes,
  };
}
