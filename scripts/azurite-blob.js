#!/usr/bin/env node
// Azurite's blob service (the version scripts/setup installs into .tools/), started without its
// garbage collector. Arguments are Azurite's own; scripts/services runs this.
//
// Why: every 10 minutes Azurite's BlobGCManager sweeps the extents (the bytes) of deleted and
// overwritten blobs, deleting each one from a LokiJS collection whose adaptive binary index is
// spliced on every delete, so a sweep is quadratic in the number of extents. Measured here: a
// deleted container of 8,000 tiny blobs took 40 s of CPU in the next 45 s; LokiJS alone spends 56 s
// removing 10,000 of 20,000 indexed records. A test session deletes a container per test, so
// Azurite kept a core at 100% for many minutes after the tests. With --inMemoryPersistence the
// sweep only gives back memory, which `scripts/services restart-azurite` gives back too.
"use strict";
const path = require("path");

const blob = path.join(__dirname, "..", ".tools", "node_modules", "azurite", "dist", "src", "blob");
const { default: BlobGCManager } = require(path.join(blob, "gc", "BlobGCManager.js"));
if (typeof BlobGCManager.prototype.start !== "function") {
  throw new Error("azurite-blob.js: this Azurite has no BlobGCManager.start; update the launcher");
}
BlobGCManager.prototype.start = async function start() {}; // stays Closed: close() returns at once
require(path.join(blob, "main.js"));
