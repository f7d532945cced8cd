#!/usr/bin/env node
// Azurite's queue service (the version scripts/setup installs into .tools/), without two costs that
// every request paid in proportion to the messages the whole service holds. Arguments are
// Azurite's own; scripts/services runs this.
//
// Why: before every receive, peek, delete and update, Azurite sweeps the queue's expired messages:
// a scan of every message of the account (all its queues) in its LokiJS collection, then remove()
// of what it found, nearly always nothing, which LokiJS handles by re-sorting all four indices of
// the collection; a receive then updates its page of messages as a batch, which re-sorts them
// again. Measured here with 5,000 messages held: a delete cost 51 ms of Azurite's CPU (9 ms without
// the re-sort, 2.6 ms without the sweep), and a consumer draining a 10,000-message queue managed
// about 5 messages a second. Now removing nothing returns at once, a page of up to 64 messages is
// updated one by one (the indices kept in place), and a queue is swept at most once a second, so a
// message that expired less than a second ago may still be received (Azure's queues also remove
// expired messages in the background, not at the instant they expire).
//
// And its garbage collector: every minute it deletes the stored text of the messages deleted since
// (one extent each in memory), one extent at a time, and LokiJS re-sorts the extents' index after
// each: with 3,000 messages deleted in a minute (50 a second) the service answered nothing for
// 38 s, every client's requests stalled at once. Now the unreferenced extents of one sweep are
// removed together: one filter, one re-sort.
"use strict";
const path = require("path");

const azurite = path.join(__dirname, "..", ".tools", "node_modules", "azurite");
const queue = path.join(azurite, "dist", "src", "queue");
const { Collection } = require(require.resolve("lokijs", { paths: [azurite] }));
const store = require(path.join(queue, "persistence", "LokiQueueMetadataStore.js")).default;
const removeBatch = Collection.prototype.removeBatch;
const update = Collection.prototype.update;
const sweep = store.prototype.clearExpiredMessages;
const extents = require(path.join(azurite, "dist", "src", "common", "persistence", "MemoryExtentStore.js")).default;
const deleteExtents = extents.prototype.deleteExtents;
if ([removeBatch, update, sweep, deleteExtents].some((f) => typeof f !== "function")) {
  throw new Error("azurite-queue.js: this Azurite's LokiJS or queue store differs; update the launcher");
}
Collection.prototype.removeBatch = function (batch) {
  if (batch.length === 0) return; // nothing to remove: leave the indices as they are
  return removeBatch.call(this, batch);
};
Collection.prototype.update = function (doc) {
  if (!Array.isArray(doc) || doc.length > 64) return update.call(this, doc);
  for (const one of doc) update.call(this, one); // each moved in the indices, none re-sorted
};
const swept = new Map(); // "account/queue" -> when it was last swept (ms)
store.prototype.clearExpiredMessages = async function (account, name, context) {
  const key = `${account}/${name}`;
  const now = Date.now();
  if (now - (swept.get(key) || 0) < 1000) return;
  swept.set(key, now);
  return sweep.call(this, account, name, context);
};
extents.prototype.deleteExtents = async function (ids) {
  const metadata = this.metadataStore;
  const collection = metadata.db && metadata.db.getCollection(metadata.EXTENTS_COLLECTION);
  if (!collection) return deleteExtents.call(this, ids); // not LokiJS: Azurite's own way
  const doomed = new Set(ids);
  if (doomed.size === 0) return 0;
  for (const id of doomed) this.chunks.delete(this.categoryName, id);
  collection.chain().where((extent) => doomed.has(extent.id)).remove(); // one re-sort
  return doomed.size;
};
if (require.main === module) require(path.join(queue, "main.js")); // else: a test of the patches
