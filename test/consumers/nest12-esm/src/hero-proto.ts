import { join } from 'node:path';

/** ES modules have no `__dirname`: `import.meta.dirname` (Node >= 20.11) is the same folder. */
export const HERO_PROTO = join(import.meta.dirname, 'hero.proto');
