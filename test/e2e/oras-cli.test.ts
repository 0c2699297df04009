// scripts/oras-cli.py's own behaviour, apart from the registry: what a user sees when the registry is not there.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runOras } from "./oras.ts";

/** A loopback port nothing listens on: bound once by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test("oras-cli: a registry that refuses connections is reported at once, not retried for minutes", async () => {
  const work = await mkdtemp(join(tmpdir(), "oras-cli-"));
  try {
    const port = await closedPort();
    // oras itself would retry silently for over two minutes; 20 s is far beyond the one connect.
    const run = await runOras(["pull", "--user", "alice", "--password", "x", `127.0.0.1:${port}/alice/hello:1.0`, "--out", work], work, 20_000);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout, "");
    assert.deepEqual(run.trace, [], "no HTTP request was made");
    const last = run.stderr.trim().split("\n").at(-1);
    assert.match(last ?? "", new RegExp(`^oras: cannot reach 127\\.0\\.0\\.1:${port}: .*refused`, "i"));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
