import { join } from 'node:path';

/** CommonJS: the compiled file's folder is `__dirname`; the build copies hero.proto beside it. */
export const HERO_PROTO = join(__dirname, 'hero.proto');
