// Writes the CommonJS door of the package: dist/cjs/package.json marks the folder as
// CommonJS, and each entry point re-exports the ES module build through require(esm)
// (Node >= 20.19). One copy of the code serves both module systems, so a CommonJS app and an
// ES module it loads share the same PoolService class (no dual-package hazard). The types
// beside these files are the same declarations compiled as CommonJS (tsconfig.cjs.json), so
// TypeScript's node16/nodenext CommonJS resolution sees CommonJS types for CommonJS code.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const dist = 'dist';
const entries = ['index.js', 'health/index.js', 'otel/index.js'];

writeFileSync(join(dist, 'cjs', 'package.json'), '{ "type": "commonjs" }\n');
for (const entry of entries) {
  const file = join(dist, 'cjs', entry);
  const target = relative(dirname(file), join(dist, entry)).split('\\').join('/');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `'use strict';\nmodule.exports = require('${target}');\n`);
}
