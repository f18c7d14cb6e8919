'use strict';
// The seed's "Default Content" example outputs (ProGet's documentation): what ProGet posts for its
// sample events, and what our default webhook bodies must render to for `sampleEvent(code)`.
const { eventTypeInfo } = require('../../dist/core/events');

/** ProGet's example output of the default webhook content for event type `code`. */
function progetExample(code) {
  const info = eventTypeInfo(code);
  if (!info) throw new Error(`unknown event type ${code}`);
  if (info.category === 'package') {
    return { package: 'MyCorp.CoolUtils', version: '3.2.0-pre.1', event: info.shortLabel, user: 'API', feed: 'internal-utils' };
  }
  switch (code) {
    case 'sca.noncompliant-package':
      return {
        package: 'MyCorp.CoolUtils',
        version: '3.2.0-pre.1',
        result: 'Noncompliant',
        details: 'Vulnerability (PGV-2358804); Package is Unlisted',
        feed: 'internal-utils',
      };
    case 'sca.new-vulnerability':
      return {
        packages: [{ Name: 'nuget:Newtonsoft.Json', AffectedVersions: '< 13.0.1.' }],
        vulnerabilityId: 'PGV-2245804',
        summary: 'Improper Handling of Exceptional Conditions in Newtonsoft.Json',
        severity: 'High',
        score: '7.5',
      };
    default:
      return {
        issues: [
          { Sequence: '1', Detail: 'Noncompliant package (PGV-892418)' },
          { Sequence: '4', Detail: 'Noncompliant package (MIT License)' },
        ],
        buildNumber: '25.4.2',
        releaseNumber: 'v25-Q4',
        projectName: 'XAPUtil.Web',
      };
  }
}

/** The seed's four example bodies, by the event type each stands for. */
const SEED = {
  'package.promoted': progetExample('package.promoted'),
  'sca.noncompliant-package': progetExample('sca.noncompliant-package'),
  'sca.new-vulnerability': progetExample('sca.new-vulnerability'),
  'sca.build-issues-opened': progetExample('sca.build-issues-opened'),
};

module.exports = { progetExample, SEED };
