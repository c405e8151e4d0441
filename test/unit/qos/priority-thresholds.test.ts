/**
 * The PIAS/Karuna thresholds the controller reports: computed at start from `qos.priorityThresholds`
 * (a .cdf file and a load) for `qos.queues`, shown by GET /api/v1/qos; a bad file is a config error
 * naming the key.
 */
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { computePriorityThresholds } from '../../../apps/qos/index.js';
import { ConfigError, defaultConfig } from '../../../controller/config/index.js';
import { quietLogger } from '../../../lib/log.js';
import { createRestServer } from '../../../controller/rest/index.js';
import { FakeTopology } from '../../../testing/fake-topology.js';

const WEBSEARCH = fileURLToPath(new URL('../../../../test/fixtures/workloads/websearch.cdf', import.meta.url));

describe('qos: priority thresholds in the API', () => {
  it('websearch.cdf at load 0.6 with 4 queues: the thresholds, ascending, better than FIFO', () => {
    const t = computePriorityThresholds({ cdfFile: WEBSEARCH, load: 0.6 }, 4)!;
    expect(t.thresholdsBytes).to.deep.equal([200_000, 2_000_000, 10_000_000]);
    expect(t.meanSlowdown).to.be.below(t.fifoMeanSlowdown);
    expect(t).to.include({ cdfFile: WEBSEARCH, load: 0.6, queues: 4 });
  });

  it('no distribution configured: none', () => {
    expect(computePriorityThresholds({ load: 0.6 }, 4)).to.equal(undefined);
  });

  it('an unreadable or malformed file is a ConfigError naming qos.priorityThresholds.cdfFile', () => {
    for (const read of [() => { throw new Error('ENOENT'); }, () => '100 0.5\n50 0.9\n']) {
      try {
        computePriorityThresholds({ cdfFile: 'x.cdf', load: 0.6 }, 4, read);
        expect.fail('should throw');
      } catch (e) {
        expect(e).to.be.instanceOf(ConfigError);
        expect((e as ConfigError).key).to.equal('qos.priorityThresholds.cdfFile');
      }
    }
  });

  it('GET /api/v1/qos shows them (null when none)', async () => {
    const thresholds = computePriorityThresholds({ cdfFile: WEBSEARCH, load: 0.6 }, 4)!;
    const qos = { ports: () => [], ecnProbe: () => undefined, counters: async () => [] };
    const base = { controller: { switches: new Map() }, topology: new FakeTopology(0), routes: () => [], config: defaultConfig(), log: quietLogger(), qos };
    for (const [opts, want] of [[{ ...base, priorityThresholds: thresholds }, [200_000, 2_000_000, 10_000_000]], [base, null]] as const) {
      const s = createRestServer(opts);
      const body = JSON.parse((await s.fastify.inject({ method: 'GET', url: '/api/v1/qos' })).body);
      expect(want === null ? body.priorityThresholds : body.priorityThresholds.thresholdsBytes).to.deep.equal(want);
      await s.close();
    }
  });
});
