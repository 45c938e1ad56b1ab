import { uncoveredCloudHosts } from '../management/coverage.js';

const CLOUD = ['*.opinsights.azure.com', '*.azure-automation.net', '*.blob.core.windows.net', 'advisor.example.test'];

test('gateway status names the fake-cloud hosts the host map does not cover (the tour bug: only *.opinsights mapped)', () => {
  expect(uncoveredCloudHosts(CLOUD, ['*.opinsights.azure.com=127.0.0.1:9443'], false)).toEqual(['*.azure-automation.net', '*.blob.core.windows.net', 'advisor.example.test']);
  // a parent suffix covers a pattern; exact entries cover exact hosts
  expect(uncoveredCloudHosts(CLOUD, ['*.azure.com=127.0.0.1:1', '*.azure-automation.net=127.0.0.1:1', '*.core.windows.net=127.0.0.1:1', 'advisor.example.test=127.0.0.1:1'], false)).toEqual([]);
  // a relay proxy resolves every host
  expect(uncoveredCloudHosts(CLOUD, [], true)).toEqual([]);
});
