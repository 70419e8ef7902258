export { builtDashboardDir, startWebServer } from './server.js';
export type { WebServer, WebServerOptions } from './server.js';
export { readWebToken, webTokenFileName } from './token.js';
export { vertexIdOf, vertexIndexOf } from './vertex-ids.js';
