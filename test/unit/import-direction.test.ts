/**
 * The layers run one way (ARCHITECTURE.md "Layers"): no module imports a layer above its own, the agent
 * imports only utilities and the agent protocol, product code never imports test/. Today's known upward
 * imports are allowed by name (test/helpers/import-rules.ts KNOWN_UPWARD); any new one fails here.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkImports, formatCheck, layerOf } from '../helpers/import-rules.js';

describe('import direction (layers run one way)', () => {
  it('no import points to a higher layer, beyond the known ones listed in import-rules.ts', () => {
    const c = checkImports();
    console.log(formatCheck(c).split('\n').map((l) => `      ${l}`).join('\n'));
    expect(c.files).to.be.above(100);
    expect(c.violations, `new upward imports (fix the import, do not extend the allow-list):\n${c.violations.join('\n')}`).to.deep.equal([]);
  });

  it('classifies the layers of ARCHITECTURE.md', () => {
    expect(layerOf('lib/clock.ts')).to.equal('lib');
    expect(layerOf('lib/packet/frame.ts')).to.equal('lib');
    expect(layerOf('protocol/agent.ts')).to.equal('agent-protocol');
    expect(layerOf('openflow/session.ts')).to.equal('openflow');
    expect(layerOf('openflow/codec/oxm.ts')).to.equal('openflow');
    expect(layerOf('topology/graph.ts')).to.equal('topology');
    expect(layerOf('apps/routing/core.ts')).to.equal('apps/routing');
    expect(layerOf('controller/main.ts')).to.equal('program');
    expect(layerOf('controller/rest/server.ts')).to.equal('program');
    expect(layerOf('agent/agent.ts')).to.equal('agent');
    expect(layerOf('scripts/demo.ts')).to.equal('tools');
    expect(layerOf('testing/fake-fabric.ts')).to.equal('tools');
    expect(layerOf('test/unit/dpid.test.ts')).to.equal('test');
  });

  it('reports an upward import, an agent import of the controller, and product code importing test/', () => {
    const root = mkdtempSync(join(tmpdir(), 'rivulet-imports-'));
    const put = (path: string, text: string): void => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    try {
      put('package.json', '{}');
      put('lib/clock.ts', "import type { X } from '../apps/routing/core.js';\nexport type C = X;\n");
      put('apps/routing/core.ts', "export type X = number;\nexport const y = (await import('../../controller/main.js')).z;\n");
      put('controller/main.ts', 'export const z = 1;\n');
      put('agent/agent.ts', "export * from '../openflow/session.js';\n");
      put('openflow/session.ts', 'export const s = 1;\n');
      put('bench/b.ts', "import { h } from '../test/helpers/h.js';\nexport const b = h;\n");
      put('test/helpers/h.ts', 'export const h = 1;\n');
      const c = checkImports(root);
      expect(c.violations).to.deep.equal([
        'agent/agent.ts (agent) -> openflow/session.ts (openflow)',
        'apps/routing/core.ts (apps/routing) -> controller/main.ts (program)',
        'bench/b.ts (tools) -> test/helpers/h.ts (test)',
        'lib/clock.ts (lib) -> apps/routing/core.ts (apps/routing)',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
