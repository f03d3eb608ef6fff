'use strict';
/**
 * One deployed environment's functions, in a process of their own (started by runtime.ts with a clean environment,
 * HTTP_PROXY pointing at the emulator and NODE_EXTRA_CA_CERTS holding its CA, so every Twilio call the functions make
 * reaches the emulator through its proxy, as from the cloud). It runs the build's functions with the build's own
 * @twilio/runtime-handler (context, event, callback, Twilio.Response, Runtime.*), on loopback, and reports its port.
 * Plain JavaScript: it is started with `node`, without the TypeScript loader the emulator runs under.
 */
const { join, dirname } = require('node:path');

function fromBuild(config, name) {
  try {
    return require.resolve(name, { paths: [config.baseDir] });
  } catch {
    return require.resolve(name, { paths: [config.fallbackDir] });
  }
}

function start(config) {
  // <package>/dist/dev-runtime/dev-runtime.js → <package>
  const handlerDir = dirname(dirname(dirname(fromBuild(config, '@twilio/runtime-handler/dev'))));
  const fromHandler = (name) => require(require.resolve(name, { paths: [handlerDir] }));
  // The dev runtime's building blocks; its package "exports" hide them, so they are loaded by file.
  const route = require(join(handlerDir, 'dist', 'dev-runtime', 'route.js'));
  const routeCache = require(join(handlerDir, 'dist', 'dev-runtime', 'internal', 'route-cache.js'));
  const express = fromHandler('express');
  const bodyParser = fromHandler('body-parser');
  const cookieParser = fromHandler('cookie-parser');
  const userAgent = fromHandler('express-useragent');

  const routes = {
    functions: config.functions.map((fn) => ({
      name: fn.path.slice(1),
      path: fn.path,
      filePath: fn.file,
      access: fn.visibility,
    })),
    assets: config.assets.map((asset) => ({
      name: asset.path.slice(1),
      path: asset.path,
      filePath: asset.file,
      access: asset.visibility,
    })),
  };
  const runtimeConfig = {
    baseDir: config.baseDir,
    env: config.env,
    url: `https://${config.domain}`,
    port: 0,
    detailedLogs: false,
    live: false,
    logs: false,
    legacyMode: false,
    appName: 'twilio-run',
    forkProcess: false,
    routes,
    enableDebugLogs: false,
  };
  routeCache.setRoutes(routes);
  route.constructGlobalScope(runtimeConfig);

  const app = express();
  app.disable('x-powered-by');
  app.use(userAgent.express());
  app.use(bodyParser.urlencoded({ extended: false, limit: '6mb' }));
  app.use(bodyParser.json({ limit: '6mb' }));
  app.use(cookieParser());
  for (const fn of config.functions) {
    app.all(fn.path, (req, res, next) => {
      let handler;
      try {
        handler = require(fn.file).handler;
      } catch (error) {
        console.error(`Error: ${fn.path} could not be loaded: ${error.message}`);
        res.status(500).send({ message: error.message, name: error.name });
        return;
      }
      if (typeof handler !== 'function') {
        res.status(500).send({ message: `${fn.path} exports no handler function` });
        return;
      }
      route.functionToRoute(handler, runtimeConfig, fn.path)(req, res, next);
    });
  }
  app.use((req, res) => res.status(404).send('Not Found'));
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
}

process.once('message', (config) => {
  try {
    start(config);
  } catch (error) {
    console.error(`The runtime could not start: ${error.stack || error.message}`);
    process.exit(1);
  }
});
process.on('disconnect', () => process.exit(0));
