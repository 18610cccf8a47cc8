import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root (the folder with package.json, models/ and datasets/), from dist/util/. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
