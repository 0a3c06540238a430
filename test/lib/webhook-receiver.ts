/**
 * A real HTTP receiver for outgoing webhooks, run in Node by the test global setup (outside
 * workerd), on 127.0.0.1. Tests reach it over loopback:
 *   POST /hook/<name>          a delivery: recorded, answered as configured (default 204)
 *   PUT  /_config/<name>       {"fail": n, "status": 500}: answer `status` to the first n requests of each webhook-id
 *   GET  /_requests/<name>     every delivery recorded for <name>, oldest first
 */
import http from "node:http";

export interface ReceivedRequest {
  headers: Record<string, string>;
  body: string;
  answered: number;
  at: number;
}

export async function startWebhookReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  const received = new Map<string, ReceivedRequest[]>();
  const config = new Map<string, { fail: number; status: number }>();
  const seen = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const [, kind, name = ""] = /^\/([^/]+)\/([^/?]+)/.exec(request.url ?? "") ?? [];
      const reply = (status: number, json?: unknown) => {
        response.writeHead(status, json === undefined ? {} : { "content-type": "application/json" });
        response.end(json === undefined ? undefined : JSON.stringify(json));
      };
      if (kind === "_config" && request.method === "PUT") {
        config.set(name, JSON.parse(body));
        return reply(204);
      }
      if (kind === "_requests" && request.method === "GET") return reply(200, received.get(name) ?? []);
      if (kind !== "hook" || request.method !== "POST") return reply(404);
      const id = String(request.headers["webhook-id"] ?? "");
      const count = (seen.get(`${name} ${id}`) ?? 0) + 1;
      seen.set(`${name} ${id}`, count);
      const rule = config.get(name);
      const answered = rule && count <= rule.fail ? rule.status : 204;
      const headers: Record<string, string> = {};
      for (const header of ["webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "user-agent"])
        headers[header] = String(request.headers[header] ?? "");
      received.set(name, [...(received.get(name) ?? []), { headers, body, answered, at: Date.now() }]);
      reply(answered);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
