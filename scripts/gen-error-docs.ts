// Writes docs/errors.md from the error tables in the code (the single source of truth).
// `npm run docs:errors`; a unit test fails when the committed file is out of date.
import { writeFileSync } from 'node:fs';
import { renderErrorDocs } from '../test/support/error-docs.js';

const path = new URL('../docs/errors.md', import.meta.url);
writeFileSync(path, await renderErrorDocs());
console.log(`wrote ${path.pathname}`);
