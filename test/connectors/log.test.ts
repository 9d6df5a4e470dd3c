// The log connector passes the conformance suite against the real Redis.
import { connectorConformance } from '../conformance/connector.js';
import { logConnector } from '../../connectors/log/index.js';
import { dropPrefix, testPrefix, testRedis } from '../helpers/redis.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

connectorConformance('log', async () => {
  const redis = testRedis();
  const prefix = testPrefix('log');
  const connector = logConnector.create('dry', {}, { log: silent, redis, keyPrefix: prefix });
  return {
    connector,
    devices: ['10.0.0.5'],
    breakBackend: async () => { redis.disconnect(); },
    cleanup: async () => {
      const r = testRedis();
      await dropPrefix(r, prefix);
      r.disconnect();
    },
  };
});
