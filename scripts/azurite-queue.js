#!/usr/bin/env node
// Azurite's queue service (the version scripts/setup installs into .tools/), without the index
// rebuild that every request paid. Arguments are Azurite's own; scripts/services runs this.
//
// Why: before every receive, peek, delete and update, Azurite removes the queue's expired messages
// from its LokiJS collection of messages, calling remove() with the list it found, which is nearly
// always empty; LokiJS handles a batch remove, even of nothing, by re-sorting every binary index of
// the collection (four here). So each queue request cost a sort of every message held by the whole
// service (every queue): measured here, one delete took 0.06 s with 4,000 messages held and 0.18 s
// with 10,000, and a consumer draining a 10,000-message queue managed about 5 messages a second.
// Removing nothing now returns at once; a non-empty remove is LokiJS's own.
"use strict";
const path = require("path");

const azurite = path.join(__dirname, "..", ".tools", "node_modules", "azurite");
const { Collection } = require(require.resolve("lokijs", { paths: [azurite] }));
const removeBatch = Collection.prototype.removeBatch;
if (typeof removeBatch !== "function") {
  throw new Error("azurite-queue.js: this LokiJS has no Collection.removeBatch; update the launcher");
}
Collection.prototype.removeBatch = function (batch) {
  if (batch.length === 0) return; // nothing to remove: leave the indices as they are
  return removeBatch.call(this, batch);
};
require(path.join(azurite, "dist", "src", "queue", "main.js"));
