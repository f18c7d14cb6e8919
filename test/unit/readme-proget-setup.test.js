'use strict';
// The README's ProGet set-up templates, rendered by our OtterScript engine against the sample events
// (what ProGet would send), come back through normalizeEvent as the same event with every variable.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { renderTemplate, sampleEvent, normalizeEvent } = require('../../dist');

const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## ProGet set-up'), readme.indexOf('\n## ', readme.indexOf('## ProGet set-up') + 5));
const templates = [...section.matchAll(/```\n(\$ToJson\([^\n]+)\n```/g)].map((m) => m[1]);

test('the README gives one "send every variable" template per event category', () => {
  assert.equal(templates.length, 4);
});

test('each README template, rendered as ProGet would, is understood by the event node', () => {
  const cases = [
    ['package.promoted', 0],
    ['package.status-changed', 0],
    ['sca.noncompliant-package', 1],
    ['sca.new-vulnerability', 2],
    ['sca.build-issues-opened', 3],
  ];
  for (const [type, i] of cases) {
    const sample = sampleEvent(type);
    const body = JSON.parse(renderTemplate(templates[i], sample.vars));
    const event = normalizeEvent(body);
    assert.equal(event.type, type, `template ${i} for ${type}`);
    for (const [name, value] of Object.entries(sample.vars)) {
      if (['EventName', 'PackageName', 'WebhookEvent', 'ReleaseNumber', 'ProjectName'].includes(name)) continue;
      assert.deepEqual(event.vars[name], value, `${type}: ${name}`);
    }
  }
});
