// Cluster mode only (CODERUNNER_WEB_MODE=server, see next.config.mjs): the browser calls
// /api/<path> on this Next server, which forwards it to the gateway at
// CODERUNNER_GATEWAY_URL/<path>. What is forwarded, with which headers, and how the
// browser authenticates (its own session cookie by default, or one server-held key) is
// decided in src/lib/proxy.ts.

import { browserResponseHeaders, checkRoute, proxyConfig, upstreamRequestHeaders } from "@/lib/proxy";

export const dynamic = "force-dynamic";

let reported = "";

async function forward(req: Request, ctx: { params: Promise<{ path: string[] }> }): Promise<Response> {
  const cfg = proxyConfig(process.env);
  if ("error" in cfg) {
    if (reported !== cfg.error) console.error(`coderunner web: ${cfg.error}`);
    reported = cfg.error;
    return Response.json({ error: cfg.error }, { status: 503 });
  }
  const { path } = await ctx.params;
  const joined = path.join("/");
  const allowed = checkRoute(joined, req.method, cfg.auth);
  if (allowed === 404) return Response.json({ error: "Not Found" }, { status: 404 });
  if (allowed === 405) return Response.json({ error: `${req.method} is not allowed on /${joined}` }, { status: 405 });

  // The query is passed on as it came (fields=a,b keeps its commas).
  const q = req.url.indexOf("?");
  const target = new URL(cfg.gateway + "/" + joined + (q >= 0 ? req.url.slice(q).replace(/%2C/gi, ",") : ""));

  let res: Response;
  try {
    res = await fetch(target, {
      method: req.method,
      headers: upstreamRequestHeaders(req.headers, cfg),
      body: req.method === "POST" ? await req.arrayBuffer() : undefined,
      cache: "no-store",
      redirect: "manual",
      // A browser that goes away ends the request to the gateway too (a live stream holds one).
      signal: AbortSignal.any([req.signal, AbortSignal.timeout(cfg.timeoutMs)]),
    });
  } catch (e) {
    return Response.json(
      { error: `the gateway at ${target.origin} cannot be reached (${e instanceof Error ? e.message : String(e)})` },
      { status: 502 },
    );
  }
  const noBody = res.status === 204 || res.status === 304;
  return new Response(noBody ? null : res.body, { status: res.status, headers: browserResponseHeaders(res.headers, cfg) });
}

export const GET = forward;
export const POST = forward;
export const DELETE = forward;
