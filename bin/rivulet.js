#!/usr/bin/env node
// Entry point of the `rivulet` CLI; the compiled program lives in dist/ (built by `npm run build`).
import '../dist/cli/rivulet.js';
