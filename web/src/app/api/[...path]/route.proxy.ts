// Cluster mode only (CODERUNNER_WEB_MODE=server, see next.config.mjs): the browser calls
// /api/<path> on this Next server, which forwards it to the gateway at
// CODERUNNER_GATEWAY_URL/<path>, adding the server-held API key from CODERUNNER_API_KEY
// (so no key ships to browsers). Only the API's own routes are forwarded.

export const dynamic = "force-dynamic";

const ALLOWED = /^(languages(\/all|\/\d+)?|statuses|submissions(\/batch|\/[A-Za-z0-9-]+)?|about|version|config_info)$/;
// Headers worth passing on in each direction; hop-by-hop and cookies are not.
const REQUEST_HEADERS = ["accept", "content-type"];
const RESPONSE_HEADERS = ["content-type", "retry-after", "cache-control"];

async function forward(req: Request, ctx: { params: Promise<{ path: string[] }> }): Promise<Response> {
  const gateway = process.env.CODERUNNER_GATEWAY_URL;
  if (!gateway) {
    return Response.json({ error: "the IDE server has no CODERUNNER_GATEWAY_URL configured" }, { status: 503 });
  }
  const { path } = await ctx.params;
  const joined = path.join("/");
  if (!ALLOWED.test(joined)) return Response.json({ status: 404, error: "Not Found" }, { status: 404 });

  // The query is passed on as it came (fields=a,b keeps its commas).
  const q = req.url.indexOf("?");
  const target = new URL(gateway.replace(/\/+$/, "") + "/" + joined + (q >= 0 ? req.url.slice(q).replace(/%2C/gi, ",") : ""));

  const headers = new Headers();
  for (const h of REQUEST_HEADERS) {
    const v = req.headers.get(h);
    if (v) headers.set(h, v);
  }
  const key = process.env.CODERUNNER_API_KEY;
  if (key) headers.set(process.env.CODERUNNER_API_KEY_HEADER || "X-Auth-Token", key);
  const fwd = req.headers.get("x-forwarded-for");
  if (fwd) headers.set("X-Forwarded-For", fwd);

  let res: Response;
  try {
    res = await fetch(target, {
      method: req.method,
      headers,
      body: req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer(),
      cache: "no-store",
      redirect: "manual",
      signal: AbortSignal.timeout(Number(process.env.CODERUNNER_PROXY_TIMEOUT_MS || 60_000)),
    });
  } catch (e) {
    return Response.json(
      { error: `the gateway at ${target.origin} cannot be reached (${e instanceof Error ? e.message : String(e)})` },
      { status: 502 },
    );
  }
  const out = new Headers();
  for (const h of RESPONSE_HEADERS) {
    const v = res.headers.get(h);
    if (v) out.set(h, v);
  }
  return new Response(res.body, { status: res.status, headers: out });
}

export const GET = forward;
export const POST = forward;
