import { unmapIpv4 } from '../ip.js';

test.each([
  ['::ffff:127.0.0.5', '127.0.0.5'],
  ['::FFFF:10.1.2.3', '10.1.2.3'],
  ['127.0.0.5', '127.0.0.5'],
  ['::1', '::1'],
  ['::ffff:abcd', '::ffff:abcd'], // not a mapped IPv4 address: unchanged
])('unmapIpv4(%s) = %s', (ip, plain) => {
  expect(unmapIpv4(ip)).toBe(plain);
});
