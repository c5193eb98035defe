import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { renderCrdFiles } from '../../api/crd.js';

const repoRoot = join(import.meta.dirname, '..', '..');

describe('generated files', () => {
  for (const [path, text] of renderCrdFiles()) {
    it(`${path} is up to date (run npm run crds)`, () => {
      assert.equal(readFileSync(join(repoRoot, path), 'utf8'), text);
      assert.ok(text.startsWith('# Generated from api/ by npm run crds; do not edit.\n'));
    });
  }

  it('declares what kubectl and Argo CD rely on', () => {
    const crd = parse(renderCrdFiles().get('crds/loupe.dev_traceprofiles.yaml')!);
    assert.equal(crd.metadata.name, 'traceprofiles.loupe.dev');
    assert.deepEqual(crd.spec.names.shortNames, ['tprof']);
    assert.deepEqual(crd.spec.names.categories, ['loupe']);
    assert.equal(crd.spec.scope, 'Namespaced');
    const [version] = crd.spec.versions;
    assert.deepEqual(version.subresources, { status: {} });
    assert.deepEqual(
      version.additionalPrinterColumns.map((c: { name: string; jsonPath: string }) => `${c.name}=${c.jsonPath}`),
      ['Phase=.status.phase', 'Pods=.status.targets.pods', 'Nodes=.status.nodesReady', 'Probes=.status.probes', 'Duration=.spec.duration', 'Headline=.status.headline', 'CPU=.status.costSummary', 'Age=.metadata.creationTimestamp'],
    );
    const plan = parse(renderCrdFiles().get('crds/loupe.dev_nodetraceplans.yaml')!);
    assert.equal(plan.spec.scope, 'Cluster');
    assert.deepEqual(plan.spec.names.shortNames, ['ntp']);
  });
});
