// Vitest setup file: runs in every test file's own module context, so this afterAll belongs to that file.
import { afterAll } from 'vitest';
import { removeTempDirs } from './temp.js';

afterAll(removeTempDirs);
