// Two builds from one codebase (see README.md):
//  - default: a static export in out/, served by `coderunner serve` at "/"; the browser
//    talks to the API on the same origin (API base "").
//  - CODERUNNER_WEB_MODE=server: a Node server for `next start` (cluster mode). The route
//    handler in app/api/[...path]/route.proxy.ts forwards /api/* to CODERUNNER_GATEWAY_URL,
//    and the browser's API base is "/api".
// Route handlers cannot be part of a static export, so the proxy file has the extension
// "proxy.ts", which is a page extension only in server mode: the export never sees it.
const serverMode = process.env.CODERUNNER_WEB_MODE === "server";

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  output: serverMode ? undefined : "export",
  pageExtensions: serverMode ? ["tsx", "ts", "proxy.ts"] : ["tsx", "ts"],
  images: { unoptimized: true },
  // `npm run lint` runs ESLint on its own (and in `make test`); the build still type-checks.
  eslint: { ignoreDuringBuilds: true },
  env: {
    NEXT_PUBLIC_CODERUNNER_API_BASE: serverMode ? "/api" : "",
    // "server": the gateway is behind /api (sessions, history, client configuration).
    NEXT_PUBLIC_CODERUNNER_WEB_MODE: serverMode ? "server" : "static",
  },
};

export default nextConfig;
