#!/usr/bin/env node
import { exitQuietlyOnEpipe } from './epipe.js';
import { main } from './main.js';

exitQuietlyOnEpipe(process.stdout);
exitQuietlyOnEpipe(process.stderr);
const code = await main(process.argv);
// Backends may hold native thread pools open; exit once stdout and stderr have drained.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
