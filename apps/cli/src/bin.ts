#!/usr/bin/env node
import { main } from './main.js';

const code = await main(process.argv);
// Backends may hold native thread pools open; exit once stdout and stderr have drained.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
