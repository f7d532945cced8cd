"""``scripts/azurite-queue.js``: the queue service's garbage collector removes the stored text of
the deleted messages in one pass.

Every minute Azurite's queue GC deletes the extents (in memory: one per message) of the messages
deleted since; Azurite deletes them one by one and LokiJS re-sorts the extents' index after each,
so 3,000 deleted messages (a minute at 50 events/s) kept the service from answering any request
for over 30 s: every consumer's deletes and receives, and the producer's sends, stalled at once.
The check counts LokiJS's index re-sorts (a count, not a time) while the launcher's patched
extent store deletes a sweep's extents, and that the extents are gone.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "scripts/azurite-queue.js"
AZURITE = ROOT / ".tools/node_modules/azurite"

SWEEP = """
const path = require("path");
require(process.argv[1]);  // the launcher's patches; it does not start a server when required
const src = path.join(process.argv[2], "dist", "src", "common");
const { Collection } = require(require.resolve("lokijs", { paths: [process.argv[2]] }));
const Metadata = require(path.join(src, "persistence", "LokiExtentMetadataStore.js")).default;
const store = require(path.join(src, "persistence", "MemoryExtentStore.js"));
const logger = require(path.join(src, "Logger.js")).default;
(async () => {
  const metadata = new Metadata("extents-in-memory", true);
  await metadata.init();
  const chunks = new store.MemoryExtentChunkStore(1e9);
  const extents = new store.default("queue", chunks, metadata, logger, (...e) => new Error(e));
  const ids = [];
  for (let n = 0; n < Number(process.argv[3]); n++) {
    ids.push((await extents.appendExtent(Buffer.from(`message ${n}`))).id);
  }
  const kept = ids.pop();
  let resorts = 0;
  const ensureAllIndexes = Collection.prototype.ensureAllIndexes;
  Collection.prototype.ensureAllIndexes = function (...args) {
    resorts++;
    return ensureAllIndexes.apply(this, args);
  };
  const deleted = await extents.deleteExtents(new Set(ids));
  Collection.prototype.ensureAllIndexes = ensureAllIndexes;
  const left = [];
  const pages = metadata.iteratorExtents();  // what the GC lists as every extent
  for (let page = await pages.next(); !page.done; page = await pages.next()) left.push(...page.value);
  const text = [ids[0], kept].map((id) => (chunks.get("queue", id) ? "kept" : "gone"));
  console.log(JSON.stringify({ deleted, resorts, left, text, kept }));
})();
"""


def test_a_gc_sweep_of_many_deleted_messages_resorts_the_extents_once(tmp_path: Path) -> None:
    result = subprocess.run(
        ["node", "-e", SWEEP, str(LAUNCHER), str(AZURITE), "2000"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    sweep = json.loads(result.stdout.strip().splitlines()[-1])
    assert sweep["deleted"] == 1999
    assert sweep["resorts"] <= 1  # Azurite's own way: 1,999, one per deleted message
    assert sweep["left"] == [sweep["kept"]]  # the live message's extent stays
    assert sweep["text"] == ["gone", "kept"]
