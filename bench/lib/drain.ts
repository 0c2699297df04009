// Empties the over-capacity users' buckets before the measured run, through the same entry point
// the run uses, so the run measures rejections and not the users' first allowed pulls.
import type { BenchUser } from "./identity.ts";
import { authHeaders, manifestPath, type ClientAuth } from "./workload.ts";

/** Sends each user its plan's pulls per window (bounded by `deadlineMs`), 16 at a time; never rejects on HTTP errors. */
export async function drain(
  origin: string,
  users: BenchUser[],
  auth: ClientAuth,
  repository: string,
  reference: string,
  pullsPerWindow: Record<string, number>,
  deadlineMs: number,
): Promise<{ sent: number; rejected: number }> {
  const queue: BenchUser[] = [];
  for (const u of users) for (let i = 0; i < (pullsPerWindow[u.plan] ?? 0); i++) queue.push(u);
  const url = origin + manifestPath(repository, reference);
  const deadline = Date.now() + deadlineMs;
  let sent = 0;
  let rejected = 0;
  const worker = async () => {
    while (queue.length > 0 && Date.now() < deadline) {
      const user = queue.shift()!;
      sent++;
      try {
        const res = await fetch(url, { headers: authHeaders(user, auth, repository) });
        await res.arrayBuffer();
        if (res.status === 429) rejected++;
      } catch {
        // A failed drain request only leaves a token in a bucket; the run reports what it sees.
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return { sent, rejected };
}
