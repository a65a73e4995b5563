#!/usr/bin/env node
import { exitQuietlyOnEpipe } from './epipe.js';
import { main } from './main.js';
import { exitCleanlyOnSignals } from './signals.js';

exitQuietlyOnEpipe(process.stdout);
exitQuietlyOnEpipe(process.stderr);
exitCleanlyOnSignals();
const code = await main(process.argv);
// Backends may hold native thread pools open; exit once stdout and stderr have drained.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
