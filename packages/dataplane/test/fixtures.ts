// Builders for normalised config values, as packages/config would produce them, for unit tests.
export {
  testBackend as backend,
  testGatewayConfig as gatewayConfig,
  testRoute as route,
} from '@gatehouse/config/testing';
